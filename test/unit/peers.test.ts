// Peers (src/cluster/peers.ts): a host's replica of which other hosts have which users, kept in both
// directions; what cross-host delivery asks on every push.
import t from 'tap'
import { Peers } from '../../src/cluster/peers.js'

t.test('users come and go per host; a host that leaves takes its users with it', async t => {
  const peers = new Peers()
  t.equal(peers.nodesOf('u1'), undefined, 'nobody elsewhere at first')
  peers.join('b')
  t.ok(peers.knows('b'), 'a live host with no users is known')
  peers.add('u1', 'b')
  peers.add('u1', 'c')
  peers.add('u2', 'c')
  t.same([...peers.nodesOf('u1')!].sort(), ['b', 'c'], 'a user on two hosts')
  t.same([...peers.nodes()].sort(), ['b', 'c'])
  peers.drop('u1', 'b')
  t.same([...peers.nodesOf('u1')!], ['c'])
  peers.drop('u2', 'c')
  t.equal(peers.nodesOf('u2'), undefined, 'a user gone from every host is forgotten, not kept as an empty set')
  t.equal(peers.forget('c'), 1, 'forgetting a host says how many users it had')
  t.equal(peers.nodesOf('u1'), undefined, 'and its users are no longer found there')
  t.notOk(peers.knows('c'))
  t.equal(peers.forget('c'), -1, 'a host not known')
  peers.add('u3', 'b')
  peers.clear()
  t.same([...peers.nodes()], [], 'clear forgets every host')
  t.equal(peers.nodesOf('u3'), undefined)
})
