// One style and one linter for the whole repository (neostandard: standard's rules, TypeScript-aware,
// flat config). `npm test` runs it first; `npm run lint -- --fix` formats.
import neostandard from 'neostandard'

export default [
  { ignores: ['dist/**', 'packages/*/dist/**', 'packages/*/docs/**', 'packages/client/src/wire/chat_message.js', 'packages/client/src/wire/chat_message.d.ts', 'test-artifacts/**', 'data/**', '.tap/**', '.bench-build/**'] },
  ...neostandard({ ts: true }),
  {
    rules: {
      // `void expr` marks a value deliberately discarded (a floating promise whose errors are handled inside).
      'no-void': 'off'
    }
  }
]
