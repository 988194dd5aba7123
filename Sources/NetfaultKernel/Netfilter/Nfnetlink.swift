import CNetfault
import Glibc

/// nfnetlink constants that CNetfault.h does not import, with the uapi header
/// each comes from, shared by the probes, the nf_tables rules and the queue.
enum Nfnetlink {
    // linux/netfilter/nfnetlink.h
    static let subsysQueue: UInt16 = 3         // NFNL_SUBSYS_QUEUE
    static let subsysNFTables: UInt16 = 10     // NFNL_SUBSYS_NFTABLES
    static let subsysNFTCompat: UInt16 = 11    // NFNL_SUBSYS_NFT_COMPAT
    static let msgBatchBegin: UInt16 = 16      // NFNL_MSG_BATCH_BEGIN (NLMSG_MIN_TYPE)
    static let msgBatchEnd: UInt16 = 17        // NFNL_MSG_BATCH_END (NLMSG_MIN_TYPE + 1)
    static let version0: UInt8 = 0             // NFNETLINK_V0

    // linux/netfilter.h
    static let protoIPv4: UInt8 = 2            // NFPROTO_IPV4

    // linux/netfilter/nf_tables.h: enum nf_tables_msg_types
    static let msgNewTable: UInt16 = 0         // NFT_MSG_NEWTABLE
    static let msgNewChain: UInt16 = 3         // NFT_MSG_NEWCHAIN
    static let msgNewRule: UInt16 = 6          // NFT_MSG_NEWRULE
    static let msgNewGen: UInt16 = 15          // NFT_MSG_NEWGEN
    static let msgGetGen: UInt16 = 16          // NFT_MSG_GETGEN
    // linux/netfilter/nf_tables.h: attributes
    static let tableName: UInt16 = 1           // NFTA_TABLE_NAME
    static let chainTable: UInt16 = 1          // NFTA_CHAIN_TABLE
    static let chainName: UInt16 = 3           // NFTA_CHAIN_NAME
    static let ruleTable: UInt16 = 1           // NFTA_RULE_TABLE
    static let ruleChain: UInt16 = 2           // NFTA_RULE_CHAIN
    static let ruleExpressions: UInt16 = 4     // NFTA_RULE_EXPRESSIONS
    static let listElement: UInt16 = 1         // NFTA_LIST_ELEM
    static let expressionName: UInt16 = 1      // NFTA_EXPR_NAME
    static let expressionData: UInt16 = 2      // NFTA_EXPR_DATA
    static let queueNumber: UInt16 = 1         // NFTA_QUEUE_NUM (be16)
    static let genID: UInt16 = 1               // NFTA_GEN_ID (be32)

    // linux/netfilter/nf_tables_compat.h
    static let msgCompatGet: UInt16 = 0        // NFNL_MSG_COMPAT_GET
    static let compatName: UInt16 = 1          // NFTA_COMPAT_NAME
    static let compatRevision: UInt16 = 2      // NFTA_COMPAT_REV (be32)
    static let compatType: UInt16 = 3          // NFTA_COMPAT_TYPE (be32)

    // linux/netfilter/nfnetlink_queue.h
    static let queueMsgConfig: UInt16 = 2      // NFQNL_MSG_CONFIG
    static let queueConfigCommand: UInt16 = 1  // NFQA_CFG_CMD (struct nfqnl_msg_config_cmd)
    static let queueCommandBind: UInt8 = 1     // NFQNL_CFG_CMD_BIND

    // linux/netlink.h (not exported by CNetfault as a flag constant of its own)
    static let flagAppend: Int32 = 0x800       // NLM_F_APPEND

    /// nlmsg_type of an nfnetlink message: subsystem in the high byte.
    static func type(_ subsystem: UInt16, _ message: UInt16) -> UInt16 { subsystem << 8 | message }

    /// struct nfgenmsg { u8 nfgen_family; u8 version; be16 res_id; }, as its 4 wire bytes.
    static func genHeader(family: UInt8, resourceID: UInt16) -> UInt32 {
        let bytes = [family, version0] + bigEndian(resourceID)
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    /// Batch begin/end: res_id names the subsystem the batch is for.
    static func batch(_ type: UInt16) -> NetlinkMessage {
        NetlinkMessage(type: type, flags: NLM_F_REQUEST,
                       operation: type == msgBatchBegin ? "nfnetlink batch begin" : "nfnetlink batch end") { m in
            m.putHeader(genHeader(family: UInt8(AF_UNSPEC), resourceID: subsysNFTables))
        }
    }

    static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    static func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    static func bigEndianU32(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        guard bytes.count == 4 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The attributes after a reply's nfgenmsg.
    static func attributes(_ message: ReceivedMessage) throws -> [UInt16: ArraySlice<UInt8>] {
        try NetlinkDecoder.attributes(message.payload.dropFirst(4))
    }
}

// MARK: - nf_tables queue rules (NftablesQueueRules)

extension Nfnetlink {
    // linux/netfilter.h, which CNetfault.h does not include (it pulls in linux/in.h);
    // the nf_tables enums themselves come from linux/netfilter/nf_tables.h there.
    static let protoIPv6: UInt8 = 10           // NFPROTO_IPV6
    static let hookPrerouting: UInt32 = 0      // NF_INET_PRE_ROUTING
    static let hookPostrouting: UInt32 = 4     // NF_INET_POST_ROUTING
    static let verdictAccept: UInt32 = 1       // NF_ACCEPT
}

// MARK: - NFQUEUE socket and verdicts (NfqueueSocket, NfqueueDecoder)

extension Nfnetlink {
    // linux/netfilter/nfnetlink_queue.h: enum nfqnl_msg_types
    static let queueMsgPacket: UInt16 = 0        // NFQNL_MSG_PACKET (kernel → user)
    static let queueMsgVerdict: UInt16 = 1       // NFQNL_MSG_VERDICT
    static let queueMsgVerdictBatch: UInt16 = 3  // NFQNL_MSG_VERDICT_BATCH
    // enum nfqnl_attr_type (every integer in them is big-endian)
    static let queuePacketHeader: UInt16 = 1     // NFQA_PACKET_HDR (struct nfqnl_msg_packet_hdr, packed, 7 bytes)
    static let queueVerdictHeader: UInt16 = 2    // NFQA_VERDICT_HDR (struct nfqnl_msg_verdict_hdr: be32 verdict, be32 id)
    static let queueMark: UInt16 = 3             // NFQA_MARK (be32)
    static let queueInputInterface: UInt16 = 5   // NFQA_IFINDEX_INDEV (be32)
    static let queueOutputInterface: UInt16 = 6  // NFQA_IFINDEX_OUTDEV (be32)
    static let queuePayload: UInt16 = 10         // NFQA_PAYLOAD
    static let queueCaptureLength: UInt16 = 13   // NFQA_CAP_LEN (be32: the packet's length when the payload is cut)
    // enum nfqnl_attr_config
    static let queueConfigParams: UInt16 = 2     // NFQA_CFG_PARAMS (struct nfqnl_msg_config_params, packed, 5 bytes)
    static let queueConfigMaxLength: UInt16 = 3  // NFQA_CFG_QUEUE_MAXLEN (be32)
    static let queueCopyPacket: UInt8 = 2        // NFQNL_COPY_PACKET
    /// NFQNL_MAX_COPY_RANGE (net/netfilter/nfnetlink_queue.c): 0xFFFF - NLA_HDRLEN.
    static let queueMaxCopyRange: UInt32 = 0xFFFF - 4

    // linux/netfilter.h: verdicts
    static let verdictDrop: UInt32 = 0           // NF_DROP
}

