import CNetfault

/// One nf_tables expression of a rule, as the kernel receives it. Each case's
/// `description` is the line `nft --debug=netlink` prints for it, and its
/// attributes are written in the order nft 1.0.6 (libnftnl) writes them.
/// Loads and compares always use register 1 (NFT_REG_1), as nft does for these.
enum NftExpression: Equatable, CustomStringConvertible {
    enum MetaKey: String { case mark, iifname, oifname, l4proto }
    enum PayloadBase: String { case network, transport }

    /// `[ meta load KEY => reg 1 ]`
    case metaLoad(MetaKey)
    /// `[ payload load LENb @ BASE header + OFFSET => reg 1 ]`
    case payloadLoad(PayloadBase, offset: UInt32, length: UInt32)
    /// `[ bitwise reg 1 = ( reg 1 & MASK ) ^ 0 ]`. nft names the operation
    /// (NFTA_BITWISE_OP, NFT_BITWISE_BOOL: the kernel's default) for `tcp flags & …`
    /// but not for an address prefix; `prefix` keeps the bytes equal to nft's.
    case bitwiseAnd(mask: [UInt8], prefix: Bool)
    /// `[ cmp eq reg 1 DATA ]`
    case compareEqual([UInt8])
    /// `[ immediate reg 0 accept ]`
    case accept
    /// `[ queue num N ]`: the native queue expression (nft_queue), no flags (no bypass).
    case queue(UInt16)
    /// `[ target name NFQUEUE rev 3 ]`: xt_NFQUEUE through nft_compat, as iptables-nft sends it.
    case nfqueueTarget(UInt16)

    var description: String {
        switch self {
        case .metaLoad(let key):
            return "[ meta load \(key.rawValue) => reg 1 ]"
        case .payloadLoad(let base, let offset, let length):
            return "[ payload load \(length)b @ \(base.rawValue) header + \(offset) => reg 1 ]"
        case .bitwiseAnd(let mask, _):
            return "[ bitwise reg 1 = ( reg 1 & \(Self.words(mask)) ) ^ \(Self.words(mask.map { _ in 0 })) ]"
        case .compareEqual(let data):
            return "[ cmp eq reg 1 \(Self.words(data)) ]"
        case .accept:
            return "[ immediate reg 0 accept ]"
        case .queue(let number):
            return "[ queue num \(number) ]"
        case .nfqueueTarget:
            return "[ target name NFQUEUE rev 3 ]"
        }
    }

    /// Appends the expression as one NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA { … } }.
    func write(into m: NetlinkMessageWriter) {
        m.nest(UInt16(NFTA_LIST_ELEM.rawValue)) {
            m.put(UInt16(NFTA_EXPR_NAME.rawValue), string: name)
            m.nest(UInt16(NFTA_EXPR_DATA.rawValue)) { writeData(into: m) }
        }
    }

    private var name: String {
        switch self {
        case .metaLoad: "meta"
        case .payloadLoad: "payload"
        case .bitwiseAnd: "bitwise"
        case .compareEqual: "cmp"
        case .accept: "immediate"
        case .queue: "queue"
        case .nfqueueTarget: "target"
        }
    }

    private func writeData(into m: NetlinkMessageWriter) {
        let register1 = NFT_REG_1.rawValue
        switch self {
        case .metaLoad(let key):
            m.put(u32be: NFTA_META_KEY.rawValue, key.kernelKey)
            m.put(u32be: NFTA_META_DREG.rawValue, register1)
        case .payloadLoad(let base, let offset, let length):
            m.put(u32be: NFTA_PAYLOAD_DREG.rawValue, register1)
            m.put(u32be: NFTA_PAYLOAD_BASE.rawValue, base == .network ? NFT_PAYLOAD_NETWORK_HEADER.rawValue
                                                                       : NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
            m.put(u32be: NFTA_PAYLOAD_OFFSET.rawValue, offset)
            m.put(u32be: NFTA_PAYLOAD_LEN.rawValue, length)
        case .bitwiseAnd(let mask, let prefix):
            m.put(u32be: NFTA_BITWISE_SREG.rawValue, register1)
            m.put(u32be: NFTA_BITWISE_DREG.rawValue, register1)
            if !prefix {
                m.put(u32be: NFTA_BITWISE_OP.rawValue, 0)  // NFT_BITWISE_BOOL (NFT_BITWISE_MASK_XOR in newer headers)
            }
            m.put(u32be: NFTA_BITWISE_LEN.rawValue, UInt32(mask.count))
            m.value(NFTA_BITWISE_MASK.rawValue, mask)
            m.value(NFTA_BITWISE_XOR.rawValue, mask.map { _ in 0 })
        case .compareEqual(let data):
            m.put(u32be: NFTA_CMP_SREG.rawValue, register1)
            m.put(u32be: NFTA_CMP_OP.rawValue, NFT_CMP_EQ.rawValue)
            m.value(NFTA_CMP_DATA.rawValue, data)
        case .accept:
            m.put(u32be: NFTA_IMMEDIATE_DREG.rawValue, NFT_REG_VERDICT.rawValue)
            m.nest(UInt16(NFTA_IMMEDIATE_DATA.rawValue)) {
                m.nest(UInt16(NFTA_DATA_VERDICT.rawValue)) {
                    m.put(u32be: NFTA_VERDICT_CODE.rawValue, Nfnetlink.verdictAccept)
                }
            }
        case .queue(let number):
            m.put(UInt16(NFTA_QUEUE_NUM.rawValue), bytes: Nfnetlink.bigEndian(number))
            m.put(UInt16(NFTA_QUEUE_TOTAL.rawValue), bytes: Nfnetlink.bigEndian(UInt16(1)))
        case .nfqueueTarget(let number):
            m.put(UInt16(NFTA_TARGET_NAME.rawValue), string: "NFQUEUE")
            m.put(u32be: NFTA_TARGET_REV.rawValue, 3)
            m.put(UInt16(NFTA_TARGET_INFO.rawValue), bytes: Self.nfqueueInfo(number))
        }
    }

    /// struct xt_NFQ_info_v3 { u16 queuenum; u16 queues_total; u16 flags; } in host
    /// order, padded to XT_ALIGN(6) = 8 as the kernel checks: one queue, no flags
    /// (no NFQ_FLAG_BYPASS: with no listener the packet is dropped, never let through).
    static func nfqueueInfo(_ number: UInt16) -> [UInt8] {
        [number, 1, 0, 0].withUnsafeBytes { Array($0) }
    }

    /// Data as nft prints it: 32-bit host-order words, the last one zero-padded.
    static func words(_ data: [UInt8]) -> String {
        stride(from: 0, to: data.count, by: 4).map { start in
            let word = data[start..<min(start + 4, data.count)].enumerated()
                .reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            let digits = String(word, radix: 16)
            return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
        }.joined(separator: " ")
    }
}

extension NftExpression.MetaKey {
    var kernelKey: UInt32 {
        switch self {
        case .mark: NFT_META_MARK.rawValue
        case .iifname: NFT_META_IIFNAME.rawValue
        case .oifname: NFT_META_OIFNAME.rawValue
        case .l4proto: NFT_META_L4PROTO.rawValue
        }
    }
}

extension NetlinkMessageWriter {
    /// A 32-bit attribute in network order, as nf_tables wants its numbers.
    func put(u32be type: UInt32, _ value: UInt32) {
        put(UInt16(type), bytes: Nfnetlink.bigEndian(value))
    }

    /// TYPE { NFTA_DATA_VALUE bytes }: how nf_tables carries compared and masked data.
    func value(_ type: UInt32, _ bytes: [UInt8]) {
        nest(UInt16(type)) { put(UInt16(NFTA_DATA_VALUE.rawValue), bytes: bytes) }
    }
}
