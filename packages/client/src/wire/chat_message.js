/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const implus = $root.implus = (() => {

    /**
     * Namespace implus.
     * @exports implus
     * @namespace
     */
    const implus = {};

    implus.ChatMessage = (function() {

        /**
         * Properties of a ChatMessage.
         * @memberof implus
         * @interface IChatMessage
         * @property {number|null} [type] ChatMessage type
         * @property {string|null} [content] ChatMessage content
         * @property {string|null} [fromId] ChatMessage fromId
         * @property {string|null} [toId] ChatMessage toId
         * @property {string|null} [uid] ChatMessage uid
         * @property {string|null} [seq] ChatMessage seq
         * @property {number|null} [timestamp] ChatMessage timestamp
         * @property {number|null} [retry] ChatMessage retry
         * @property {string|null} [token] ChatMessage token
         * @property {string|null} [conversationId] ChatMessage conversationId
         * @property {string|null} [clientSeq] ChatMessage clientSeq
         * @property {number|null} [userSeq] ChatMessage userSeq
         * @property {number|null} [conversationSeq] ChatMessage conversationSeq
         * @property {number|null} [expectedSeq] ChatMessage expectedSeq
         * @property {implus.IReadReceipt|null} [readReceipt] ChatMessage readReceipt
         * @property {implus.IReadNotification|null} [readNotification] ChatMessage readNotification
         * @property {number|null} [errorCode] ChatMessage errorCode
         * @property {number|null} [contentType] ChatMessage contentType
         * @property {string|null} [deviceId] ChatMessage deviceId
         * @property {number|null} [rateLimit] ChatMessage rateLimit
         * @property {number|null} [rateBurst] ChatMessage rateBurst
         */

        /**
         * Constructs a new ChatMessage.
         * @memberof implus
         * @classdesc Represents a ChatMessage.
         * @implements IChatMessage
         * @constructor
         * @param {implus.IChatMessage=} [properties] Properties to set
         */
        function ChatMessage(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * ChatMessage type.
         * @member {number} type
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.type = 0;

        /**
         * ChatMessage content.
         * @member {string} content
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.content = "";

        /**
         * ChatMessage fromId.
         * @member {string} fromId
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.fromId = "";

        /**
         * ChatMessage toId.
         * @member {string} toId
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.toId = "";

        /**
         * ChatMessage uid.
         * @member {string} uid
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.uid = "";

        /**
         * ChatMessage seq.
         * @member {string} seq
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.seq = "";

        /**
         * ChatMessage timestamp.
         * @member {number} timestamp
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.timestamp = 0;

        /**
         * ChatMessage retry.
         * @member {number} retry
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.retry = 0;

        /**
         * ChatMessage token.
         * @member {string} token
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.token = "";

        /**
         * ChatMessage conversationId.
         * @member {string} conversationId
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.conversationId = "";

        /**
         * ChatMessage clientSeq.
         * @member {string} clientSeq
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.clientSeq = "";

        /**
         * ChatMessage userSeq.
         * @member {number} userSeq
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.userSeq = 0;

        /**
         * ChatMessage conversationSeq.
         * @member {number} conversationSeq
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.conversationSeq = 0;

        /**
         * ChatMessage expectedSeq.
         * @member {number} expectedSeq
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.expectedSeq = 0;

        /**
         * ChatMessage readReceipt.
         * @member {implus.IReadReceipt|null|undefined} readReceipt
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.readReceipt = null;

        /**
         * ChatMessage readNotification.
         * @member {implus.IReadNotification|null|undefined} readNotification
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.readNotification = null;

        /**
         * ChatMessage errorCode.
         * @member {number} errorCode
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.errorCode = 0;

        /**
         * ChatMessage contentType.
         * @member {number} contentType
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.contentType = 0;

        /**
         * ChatMessage deviceId.
         * @member {string} deviceId
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.deviceId = "";

        /**
         * ChatMessage rateLimit.
         * @member {number} rateLimit
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.rateLimit = 0;

        /**
         * ChatMessage rateBurst.
         * @member {number} rateBurst
         * @memberof implus.ChatMessage
         * @instance
         */
        ChatMessage.prototype.rateBurst = 0;

        /**
         * Encodes the specified ChatMessage message. Does not implicitly {@link implus.ChatMessage.verify|verify} messages.
         * @function encode
         * @memberof implus.ChatMessage
         * @static
         * @param {implus.IChatMessage} message ChatMessage message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ChatMessage.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.type != null && Object.hasOwnProperty.call(message, "type"))
                writer.uint32(/* id 1, wireType 0 =*/8).int32(message.type);
            if (message.content != null && Object.hasOwnProperty.call(message, "content"))
                writer.uint32(/* id 2, wireType 2 =*/18).string(message.content);
            if (message.fromId != null && Object.hasOwnProperty.call(message, "fromId"))
                writer.uint32(/* id 3, wireType 2 =*/26).string(message.fromId);
            if (message.toId != null && Object.hasOwnProperty.call(message, "toId"))
                writer.uint32(/* id 4, wireType 2 =*/34).string(message.toId);
            if (message.uid != null && Object.hasOwnProperty.call(message, "uid"))
                writer.uint32(/* id 5, wireType 2 =*/42).string(message.uid);
            if (message.seq != null && Object.hasOwnProperty.call(message, "seq"))
                writer.uint32(/* id 6, wireType 2 =*/50).string(message.seq);
            if (message.timestamp != null && Object.hasOwnProperty.call(message, "timestamp"))
                writer.uint32(/* id 7, wireType 0 =*/56).int64(message.timestamp);
            if (message.retry != null && Object.hasOwnProperty.call(message, "retry"))
                writer.uint32(/* id 8, wireType 0 =*/64).int32(message.retry);
            if (message.token != null && Object.hasOwnProperty.call(message, "token"))
                writer.uint32(/* id 9, wireType 2 =*/74).string(message.token);
            if (message.conversationId != null && Object.hasOwnProperty.call(message, "conversationId"))
                writer.uint32(/* id 10, wireType 2 =*/82).string(message.conversationId);
            if (message.clientSeq != null && Object.hasOwnProperty.call(message, "clientSeq"))
                writer.uint32(/* id 11, wireType 2 =*/90).string(message.clientSeq);
            if (message.userSeq != null && Object.hasOwnProperty.call(message, "userSeq"))
                writer.uint32(/* id 12, wireType 0 =*/96).int64(message.userSeq);
            if (message.conversationSeq != null && Object.hasOwnProperty.call(message, "conversationSeq"))
                writer.uint32(/* id 13, wireType 0 =*/104).int64(message.conversationSeq);
            if (message.expectedSeq != null && Object.hasOwnProperty.call(message, "expectedSeq"))
                writer.uint32(/* id 14, wireType 0 =*/112).int64(message.expectedSeq);
            if (message.readReceipt != null && Object.hasOwnProperty.call(message, "readReceipt"))
                $root.implus.ReadReceipt.encode(message.readReceipt, writer.uint32(/* id 15, wireType 2 =*/122).fork(), q + 1).ldelim();
            if (message.readNotification != null && Object.hasOwnProperty.call(message, "readNotification"))
                $root.implus.ReadNotification.encode(message.readNotification, writer.uint32(/* id 16, wireType 2 =*/130).fork(), q + 1).ldelim();
            if (message.errorCode != null && Object.hasOwnProperty.call(message, "errorCode"))
                writer.uint32(/* id 20, wireType 0 =*/160).int32(message.errorCode);
            if (message.contentType != null && Object.hasOwnProperty.call(message, "contentType"))
                writer.uint32(/* id 21, wireType 0 =*/168).int32(message.contentType);
            if (message.deviceId != null && Object.hasOwnProperty.call(message, "deviceId"))
                writer.uint32(/* id 22, wireType 2 =*/178).string(message.deviceId);
            if (message.rateLimit != null && Object.hasOwnProperty.call(message, "rateLimit"))
                writer.uint32(/* id 23, wireType 0 =*/184).int32(message.rateLimit);
            if (message.rateBurst != null && Object.hasOwnProperty.call(message, "rateBurst"))
                writer.uint32(/* id 24, wireType 0 =*/192).int32(message.rateBurst);
            return writer;
        };

        /**
         * Decodes a ChatMessage message from the specified reader or buffer.
         * @function decode
         * @memberof implus.ChatMessage
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {implus.ChatMessage} ChatMessage
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ChatMessage.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.implus.ChatMessage();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.type = reader.int32();
                        break;
                    }
                case 2: {
                        message.content = reader.string();
                        break;
                    }
                case 3: {
                        message.fromId = reader.string();
                        break;
                    }
                case 4: {
                        message.toId = reader.string();
                        break;
                    }
                case 5: {
                        message.uid = reader.string();
                        break;
                    }
                case 6: {
                        message.seq = reader.string();
                        break;
                    }
                case 7: {
                        message.timestamp = reader.int64();
                        break;
                    }
                case 8: {
                        message.retry = reader.int32();
                        break;
                    }
                case 9: {
                        message.token = reader.string();
                        break;
                    }
                case 10: {
                        message.conversationId = reader.string();
                        break;
                    }
                case 11: {
                        message.clientSeq = reader.string();
                        break;
                    }
                case 12: {
                        message.userSeq = reader.int64();
                        break;
                    }
                case 13: {
                        message.conversationSeq = reader.int64();
                        break;
                    }
                case 14: {
                        message.expectedSeq = reader.int64();
                        break;
                    }
                case 15: {
                        message.readReceipt = $root.implus.ReadReceipt.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 16: {
                        message.readNotification = $root.implus.ReadNotification.decode(reader, reader.uint32(), undefined, long + 1);
                        break;
                    }
                case 20: {
                        message.errorCode = reader.int32();
                        break;
                    }
                case 21: {
                        message.contentType = reader.int32();
                        break;
                    }
                case 22: {
                        message.deviceId = reader.string();
                        break;
                    }
                case 23: {
                        message.rateLimit = reader.int32();
                        break;
                    }
                case 24: {
                        message.rateBurst = reader.int32();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return ChatMessage;
    })();

    implus.ReadReceipt = (function() {

        /**
         * Properties of a ReadReceipt.
         * @memberof implus
         * @interface IReadReceipt
         * @property {string|null} [conversationId] ReadReceipt conversationId
         * @property {number|null} [lastReadSeq] ReadReceipt lastReadSeq
         */

        /**
         * Constructs a new ReadReceipt.
         * @memberof implus
         * @classdesc Represents a ReadReceipt.
         * @implements IReadReceipt
         * @constructor
         * @param {implus.IReadReceipt=} [properties] Properties to set
         */
        function ReadReceipt(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * ReadReceipt conversationId.
         * @member {string} conversationId
         * @memberof implus.ReadReceipt
         * @instance
         */
        ReadReceipt.prototype.conversationId = "";

        /**
         * ReadReceipt lastReadSeq.
         * @member {number} lastReadSeq
         * @memberof implus.ReadReceipt
         * @instance
         */
        ReadReceipt.prototype.lastReadSeq = 0;

        /**
         * Encodes the specified ReadReceipt message. Does not implicitly {@link implus.ReadReceipt.verify|verify} messages.
         * @function encode
         * @memberof implus.ReadReceipt
         * @static
         * @param {implus.IReadReceipt} message ReadReceipt message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ReadReceipt.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.conversationId != null && Object.hasOwnProperty.call(message, "conversationId"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.conversationId);
            if (message.lastReadSeq != null && Object.hasOwnProperty.call(message, "lastReadSeq"))
                writer.uint32(/* id 2, wireType 0 =*/16).int64(message.lastReadSeq);
            return writer;
        };

        /**
         * Decodes a ReadReceipt message from the specified reader or buffer.
         * @function decode
         * @memberof implus.ReadReceipt
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {implus.ReadReceipt} ReadReceipt
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ReadReceipt.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.implus.ReadReceipt();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.conversationId = reader.string();
                        break;
                    }
                case 2: {
                        message.lastReadSeq = reader.int64();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return ReadReceipt;
    })();

    implus.ReadNotification = (function() {

        /**
         * Properties of a ReadNotification.
         * @memberof implus
         * @interface IReadNotification
         * @property {string|null} [conversationId] ReadNotification conversationId
         * @property {number|null} [lastReadSeq] ReadNotification lastReadSeq
         * @property {string|null} [msgId] ReadNotification msgId
         * @property {number|null} [readCount] ReadNotification readCount
         */

        /**
         * Constructs a new ReadNotification.
         * @memberof implus
         * @classdesc Represents a ReadNotification.
         * @implements IReadNotification
         * @constructor
         * @param {implus.IReadNotification=} [properties] Properties to set
         */
        function ReadNotification(properties) {
            if (properties)
                for (let keys = Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        }

        /**
         * ReadNotification conversationId.
         * @member {string} conversationId
         * @memberof implus.ReadNotification
         * @instance
         */
        ReadNotification.prototype.conversationId = "";

        /**
         * ReadNotification lastReadSeq.
         * @member {number} lastReadSeq
         * @memberof implus.ReadNotification
         * @instance
         */
        ReadNotification.prototype.lastReadSeq = 0;

        /**
         * ReadNotification msgId.
         * @member {string} msgId
         * @memberof implus.ReadNotification
         * @instance
         */
        ReadNotification.prototype.msgId = "";

        /**
         * ReadNotification readCount.
         * @member {number} readCount
         * @memberof implus.ReadNotification
         * @instance
         */
        ReadNotification.prototype.readCount = 0;

        /**
         * Encodes the specified ReadNotification message. Does not implicitly {@link implus.ReadNotification.verify|verify} messages.
         * @function encode
         * @memberof implus.ReadNotification
         * @static
         * @param {implus.IReadNotification} message ReadNotification message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        ReadNotification.encode = function encode(message, writer, q) {
            if (!writer)
                writer = $Writer.create();
            if (q === undefined)
                q = 0;
            if (q > $util.recursionLimit)
                throw Error("max depth exceeded");
            if (message.conversationId != null && Object.hasOwnProperty.call(message, "conversationId"))
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.conversationId);
            if (message.lastReadSeq != null && Object.hasOwnProperty.call(message, "lastReadSeq"))
                writer.uint32(/* id 2, wireType 0 =*/16).int64(message.lastReadSeq);
            if (message.msgId != null && Object.hasOwnProperty.call(message, "msgId"))
                writer.uint32(/* id 3, wireType 2 =*/26).string(message.msgId);
            if (message.readCount != null && Object.hasOwnProperty.call(message, "readCount"))
                writer.uint32(/* id 4, wireType 0 =*/32).int32(message.readCount);
            return writer;
        };

        /**
         * Decodes a ReadNotification message from the specified reader or buffer.
         * @function decode
         * @memberof implus.ReadNotification
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {implus.ReadNotification} ReadNotification
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        ReadNotification.decode = function decode(reader, length, error, long) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (long === undefined)
                long = 0;
            if (long > $Reader.recursionLimit)
                throw Error("maximum nesting depth exceeded");
            let end, message;
            if (length === undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = new $root.implus.ReadNotification();
            while (reader.pos < end) {
                let tag = reader.uint32();
                if (tag === error)
                    break;
                switch (tag >>> 3) {
                case 1: {
                        message.conversationId = reader.string();
                        break;
                    }
                case 2: {
                        message.lastReadSeq = reader.int64();
                        break;
                    }
                case 3: {
                        message.msgId = reader.string();
                        break;
                    }
                case 4: {
                        message.readCount = reader.int32();
                        break;
                    }
                default:
                    reader.skipType(tag & 7, long);
                    break;
                }
            }
            if (length !== undefined) {
                if (reader.pos !== end)
                    throw RangeError("index out of range");
                reader.len = length;
            }
            return message;
        };

        return ReadNotification;
    })();

    return implus;
})();

export { $root as default };
