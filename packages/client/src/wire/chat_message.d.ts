import * as $protobuf from "protobufjs";
/** Namespace implus. */
export namespace implus {

    /** Properties of a ChatMessage. */
    interface IChatMessage {

        /** ChatMessage type */
        type?: (number|null);

        /** ChatMessage content */
        content?: (string|null);

        /** ChatMessage fromId */
        fromId?: (string|null);

        /** ChatMessage toId */
        toId?: (string|null);

        /** ChatMessage uid */
        uid?: (string|null);

        /** ChatMessage seq */
        seq?: (string|null);

        /** ChatMessage timestamp */
        timestamp?: (number|null);

        /** ChatMessage retry */
        retry?: (number|null);

        /** ChatMessage token */
        token?: (string|null);

        /** ChatMessage conversationId */
        conversationId?: (string|null);

        /** ChatMessage clientSeq */
        clientSeq?: (string|null);

        /** ChatMessage userSeq */
        userSeq?: (number|null);

        /** ChatMessage conversationSeq */
        conversationSeq?: (number|null);

        /** ChatMessage expectedSeq */
        expectedSeq?: (number|null);

        /** ChatMessage readReceipt */
        readReceipt?: (implus.IReadReceipt|null);

        /** ChatMessage readNotification */
        readNotification?: (implus.IReadNotification|null);

        /** ChatMessage errorCode */
        errorCode?: (number|null);

        /** ChatMessage contentType */
        contentType?: (number|null);

        /** ChatMessage deviceId */
        deviceId?: (string|null);

        /** ChatMessage rateLimit */
        rateLimit?: (number|null);

        /** ChatMessage rateBurst */
        rateBurst?: (number|null);
    }

    /** Represents a ChatMessage. */
    class ChatMessage implements IChatMessage {

        /**
         * Constructs a new ChatMessage.
         * @param [properties] Properties to set
         */
        constructor(properties?: implus.IChatMessage);

        /** ChatMessage type. */
        public type: number;

        /** ChatMessage content. */
        public content: string;

        /** ChatMessage fromId. */
        public fromId: string;

        /** ChatMessage toId. */
        public toId: string;

        /** ChatMessage uid. */
        public uid: string;

        /** ChatMessage seq. */
        public seq: string;

        /** ChatMessage timestamp. */
        public timestamp: number;

        /** ChatMessage retry. */
        public retry: number;

        /** ChatMessage token. */
        public token: string;

        /** ChatMessage conversationId. */
        public conversationId: string;

        /** ChatMessage clientSeq. */
        public clientSeq: string;

        /** ChatMessage userSeq. */
        public userSeq: number;

        /** ChatMessage conversationSeq. */
        public conversationSeq: number;

        /** ChatMessage expectedSeq. */
        public expectedSeq: number;

        /** ChatMessage readReceipt. */
        public readReceipt?: (implus.IReadReceipt|null);

        /** ChatMessage readNotification. */
        public readNotification?: (implus.IReadNotification|null);

        /** ChatMessage errorCode. */
        public errorCode: number;

        /** ChatMessage contentType. */
        public contentType: number;

        /** ChatMessage deviceId. */
        public deviceId: string;

        /** ChatMessage rateLimit. */
        public rateLimit: number;

        /** ChatMessage rateBurst. */
        public rateBurst: number;

        /**
         * Encodes the specified ChatMessage message. Does not implicitly {@link implus.ChatMessage.verify|verify} messages.
         * @param message ChatMessage message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: implus.IChatMessage, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ChatMessage message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns ChatMessage
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): implus.ChatMessage;
    }

    /** Properties of a ReadReceipt. */
    interface IReadReceipt {

        /** ReadReceipt conversationId */
        conversationId?: (string|null);

        /** ReadReceipt lastReadSeq */
        lastReadSeq?: (number|null);
    }

    /** Represents a ReadReceipt. */
    class ReadReceipt implements IReadReceipt {

        /**
         * Constructs a new ReadReceipt.
         * @param [properties] Properties to set
         */
        constructor(properties?: implus.IReadReceipt);

        /** ReadReceipt conversationId. */
        public conversationId: string;

        /** ReadReceipt lastReadSeq. */
        public lastReadSeq: number;

        /**
         * Encodes the specified ReadReceipt message. Does not implicitly {@link implus.ReadReceipt.verify|verify} messages.
         * @param message ReadReceipt message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: implus.IReadReceipt, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ReadReceipt message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns ReadReceipt
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): implus.ReadReceipt;
    }

    /** Properties of a ReadNotification. */
    interface IReadNotification {

        /** ReadNotification conversationId */
        conversationId?: (string|null);

        /** ReadNotification lastReadSeq */
        lastReadSeq?: (number|null);

        /** ReadNotification msgId */
        msgId?: (string|null);

        /** ReadNotification readCount */
        readCount?: (number|null);
    }

    /** Represents a ReadNotification. */
    class ReadNotification implements IReadNotification {

        /**
         * Constructs a new ReadNotification.
         * @param [properties] Properties to set
         */
        constructor(properties?: implus.IReadNotification);

        /** ReadNotification conversationId. */
        public conversationId: string;

        /** ReadNotification lastReadSeq. */
        public lastReadSeq: number;

        /** ReadNotification msgId. */
        public msgId: string;

        /** ReadNotification readCount. */
        public readCount: number;

        /**
         * Encodes the specified ReadNotification message. Does not implicitly {@link implus.ReadNotification.verify|verify} messages.
         * @param message ReadNotification message or plain object to encode
         * @param [writer] Writer to encode to
         * @returns Writer
         */
        public static encode(message: implus.IReadNotification, writer?: $protobuf.Writer): $protobuf.Writer;

        /**
         * Decodes a ReadNotification message from the specified reader or buffer.
         * @param reader Reader or buffer to decode from
         * @param [length] Message length if known beforehand
         * @returns ReadNotification
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        public static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): implus.ReadNotification;
    }
}
