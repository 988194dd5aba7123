import CNetfault
import Glibc

/// An `fq` root qdisc's options as the in-kernel fault engine uses it: it holds each
/// packet until the earliest departure time (`skb->tstamp`) its tc program set, so
/// delays, jitter and time-based reordering happen in the kernel.
public struct FQOptions: Sendable, Equatable {
    /// Packets with a departure time further ahead are dropped (`horizon`, µs; a u32 in
    /// the kernel, since Linux 5.8): above the longest delay, so none is.
    public var horizonMicroseconds: UInt32
    /// Packets the qdisc holds at most (`limit`; the kernel's default is 10,000).
    public var limit: UInt32
    /// Packets one flow may have in it (`flow_limit`; default 100, which one delayed bulk flow overflows).
    public var flowLimit: UInt32
    /// fq's own pacing (`nopacing` when false): off, so only the tc program's departure
    /// times hold packets, as on a kernel without fq. fq honours `skb->tstamp` either way.
    public var pacing: Bool

    public init(horizonMicroseconds: UInt32, limit: UInt32 = FQOptions.defaultLimit,
                flowLimit: UInt32 = FQOptions.defaultFlowLimit, pacing: Bool = false) {
        self.horizonMicroseconds = horizonMicroseconds
        self.limit = limit
        self.flowLimit = flowLimit
        self.pacing = pacing
    }

    /// What netfault keeps above the longest delay: a departure time is set from the
    /// packet's own (TCP's EDT, up to a pacing interval ahead) plus the delay.
    public static let horizonMargin = 1.0
    /// The longest hold fq can take with the margin: its horizon is a u32 of µs (≈4294.97 s).
    public static let longestHold = Double(UInt32.max) / 1e6 - horizonMargin
    /// A delayed flow's packets stay in fq until their time: one bulk flow held 1 s at
    /// 10 Gbit/s is ~860,000 full-size packets, but TCP's small-queue limit and send
    /// buffer (tcp_wmem's 4 MiB maximum, ~2,900 full segments; more small ones) bound
    /// what one socket has queued. 65,536 per flow and 262,144 in all leave room for
    /// both with small segments; the memory is used only by packets really held.
    public static let defaultFlowLimit: UInt32 = 65_536
    public static let defaultLimit: UInt32 = 262_144

    /// Options for an interface whose longest hold is `seconds` (validated: at most `longestHold`).
    public static func holding(_ seconds: Double) -> FQOptions {
        let horizon = ((max(0, seconds) + horizonMargin) * 1e6).rounded(.up)
        return FQOptions(horizonMicroseconds: UInt32(min(horizon, Double(UInt32.max))))
    }

    /// The arguments of `tc qdisc add … fq`, e.g. "limit 262144 flow_limit 65536 horizon 1300000us nopacing".
    public var tcArguments: String {
        "limit \(limit) flow_limit \(flowLimit) horizon \(horizonMicroseconds)us" + (pacing ? "" : " nopacing")
    }

    /// TCA_OPTIONS: PLIMIT, FLOW_PLIMIT, RATE_ENABLE, HORIZON (u32 each) and HORIZON_DROP (u8 1: drop
    /// beyond the horizon rather than cap, so a wrong horizon shows as loss, not a shorter delay).
    func encode(into m: NetlinkMessageWriter) {
        m.nest(UInt16(TCA_OPTIONS)) {
            m.put(FQAttribute.limit, u32: limit)
            m.put(FQAttribute.flowLimit, u32: flowLimit)
            m.put(FQAttribute.rateEnable, u32: pacing ? 1 : 0)
            m.put(FQAttribute.horizon, u32: horizonMicroseconds)
            m.put(FQAttribute.horizonDrop, u8: 1)
        }
    }

    /// Decodes an fq qdisc's TCA_OPTIONS as the kernel dumps it (`QdiscInfo.options`).
    public init(kernelOptions value: ArraySlice<UInt8>) throws {
        let attributes = try NetlinkDecoder.attributes(value)
        func u32(_ type: UInt16) throws -> UInt32 {
            guard let data = attributes[type], data.count >= 4 else {
                throw NetlinkDecodeError(reason: "fq options lack attribute \(type) (a kernel before 5.8 has no horizon)")
            }
            return data.loadU32(at: data.startIndex)
        }
        self.init(horizonMicroseconds: try u32(FQAttribute.horizon), limit: try u32(FQAttribute.limit),
                  flowLimit: try u32(FQAttribute.flowLimit), pacing: try u32(FQAttribute.rateEnable) != 0)
    }
}

/// TCA_FQ_* from linux/pkt_sched.h.
enum FQAttribute {
    static let limit: UInt16 = 1          // TCA_FQ_PLIMIT
    static let flowLimit: UInt16 = 2      // TCA_FQ_FLOW_PLIMIT
    static let rateEnable: UInt16 = 5     // TCA_FQ_RATE_ENABLE
    static let horizon: UInt16 = 14       // TCA_FQ_HORIZON (µs)
    static let horizonDrop: UInt16 = 15   // TCA_FQ_HORIZON_DROP
}

extension Rtnetlink {
    /// Equivalent to `tc qdisc add dev NAME root handle 1: fq limit … flow_limit … horizon …us nopacing`.
    public static func newFQ(interfaceIndex: Int32, interface: String, options: FQOptions) -> NetlinkMessage {
        TrafficControl.newRootQdisc(kind: "fq", interfaceIndex: interfaceIndex, interface: interface,
                                    arguments: options.tcArguments, encode: options.encode)
    }

    /// Equivalent to `tc qdisc add dev NAME clsact`: the hook tc BPF programs attach to at
    /// ingress and egress (libbpf's bpf_tc_hook_create makes the same one).
    public static func newClsact(interfaceIndex: Int32, interface: String) -> NetlinkMessage {
        NetlinkMessage(type: UInt16(RTM_NEWQDISC), flags: .nlCreateExclusive,
                       operation: "tc qdisc add dev \(interface) clsact") { m in
            var header = tcmsg()
            header.tcm_family = UInt8(AF_UNSPEC)
            header.tcm_ifindex = interfaceIndex
            header.tcm_handle = 0xFFFF_0000  // TC_H_MAKE(TC_H_CLSACT, 0)
            header.tcm_parent = 0xFFFF_FFF1  // TC_H_CLSACT
            m.putHeader(header)
            m.put(UInt16(TCA_KIND), string: "clsact")
        }
    }
}
