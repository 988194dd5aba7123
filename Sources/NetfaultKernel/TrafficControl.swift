import CNetfault
import Glibc

/// Traffic-control constants from linux/pkt_sched.h, which CNetfault.h does not import.
enum TrafficControl {
    static let root: UInt32 = 0xFFFF_FFFF      // TC_H_ROOT
    static let handle1: UInt32 = 0x1_0000      // TC_H_MAKE(1 << 16, 0): "1:"

    /// Equivalent to `tc qdisc add dev INTERFACE root handle 1: KIND ARGUMENTS`:
    /// RTM_NEWQDISC with NLM_F_CREATE|NLM_F_EXCL (an existing root qdisc other than the
    /// default is an error, EEXIST, not replaced); `encode` writes its TCA_OPTIONS.
    static func newRootQdisc(kind: String, interfaceIndex: Int32, interface: String, arguments: String,
                             encode: @escaping (NetlinkMessageWriter) -> Void) -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_NEWQDISC), flags: .nlCreateExclusive,
                       operation: "tc qdisc add dev \(interface) root handle 1: \(kind) \(arguments)") { m in
            var header = tcmsg()
            header.tcm_family = UInt8(AF_UNSPEC)
            header.tcm_ifindex = interfaceIndex
            header.tcm_handle = handle1
            header.tcm_parent = root
            m.putHeader(header)
            m.put(UInt16(TCA_KIND), string: kind)
            encode(m)
        }
    }

    // netem's TCA_OPTIONS is `struct tc_netem_qopt` followed by TCA_NETEM_* attributes.
    static let netemQoptSize = 24              // sizeof(struct tc_netem_qopt): six u32
    static let netemCorrelation: UInt16 = 1    // TCA_NETEM_CORR: struct tc_netem_corr
    static let netemReorder: UInt16 = 3        // TCA_NETEM_REORDER: struct tc_netem_reorder
    static let netemCorrupt: UInt16 = 4        // TCA_NETEM_CORRUPT: struct tc_netem_corrupt
    static let netemRate: UInt16 = 6           // TCA_NETEM_RATE: struct tc_netem_rate
    static let netemRate64: UInt16 = 8         // TCA_NETEM_RATE64: u64 bytes/s
    static let netemLatency64: UInt16 = 10     // TCA_NETEM_LATENCY64: s64 ns
    static let netemJitter64: UInt16 = 11      // TCA_NETEM_JITTER64: s64 ns
    /// PSCHED_SHIFT: the kernel's psched ticks are 64 ns.
    static let pschedShift: UInt64 = 6
}

/// One qdisc as `tc qdisc show` lists it.
public struct QdiscInfo: Sendable, Equatable {
    public let interfaceIndex: Int32
    public let handle: UInt32
    public let parent: UInt32
    /// TCA_KIND: "netem", "noqueue", "pfifo_fast", …
    public let kind: String
    /// TCA_OPTIONS' value as the kernel sent it (its layout depends on the kind);
    /// nil when there was none.
    public let options: ArraySlice<UInt8>?

    public var isRoot: Bool { parent == TrafficControl.root }
}

extension Rtnetlink {
    /// Equivalent to `tc qdisc show`: an RTM_GETQDISC dump of every qdisc of the
    /// namespace, answered with one RTM_NEWQDISC message each (`qdisc(_:)` decodes them).
    public static func dumpQdiscs() -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_GETQDISC), flags: .nlDump, operation: "tc qdisc show") { m in
            m.putHeader(tcmsg())
        }
    }

    /// Decodes one RTM_NEWQDISC message of a `dumpQdiscs()` answer.
    public static func qdisc(_ message: ReceivedMessage) throws -> QdiscInfo {
        let size = MemoryLayout<tcmsg>.size
        let payload = message.payload, base = payload.startIndex
        guard message.type == UInt16(RTM_NEWQDISC), payload.count >= size else {
            throw NetlinkDecodeError(reason: "RTM_NEWQDISC expected (type \(message.type), \(payload.count) bytes)")
        }
        let attributes = try NetlinkDecoder.attributes(payload[(base + size)...])
        let kind = attributes[UInt16(TCA_KIND)].map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } ?? ""
        return QdiscInfo(interfaceIndex: Int32(bitPattern: payload.loadU32(at: base + 4)),
                     handle: payload.loadU32(at: base + 8), parent: payload.loadU32(at: base + 12),
                     kind: kind, options: attributes[UInt16(TCA_OPTIONS)])
    }
}
