import CNetfault
import Glibc

/// What a netem qdisc does to every packet leaving an interface, in the units
/// of `tc qdisc add … netem`. Percentages are 0…100 (scaled to u32 exactly as
/// tc does); times are nanoseconds; `rate` is bytes per second.
///
/// Kernel behaviours worth knowing (Linux 6.1, checked in a VM):
/// - `jitter` may exceed `delay` (tc and the kernel accept it): a packet whose
///   random delay comes out negative leaves at once, which also reorders.
/// - The kernel caps `jitter` at 2^31−1 ns (≈2.147 s), silently.
/// - `limit` 0 is accepted and drops every packet.
/// - Reordering needs a delay: reordered packets are the ones sent without it.
public struct NetemOptions: Sendable, Equatable {
    /// Added to every packet, in nanoseconds (`delay 20ms`).
    public var delay: UInt64
    /// Uniform ±jitter around `delay`, in nanoseconds (`delay 20ms 5ms`).
    public var jitter: UInt64
    /// How much each packet's random delay follows the previous one's (`delay 20ms 5ms 25%`).
    public var delayCorrelation: Double
    /// Percentage of packets dropped (`loss 5%`).
    public var loss: Double
    public var lossCorrelation: Double
    /// Percentage of packets sent twice (`duplicate 1%`).
    public var duplicate: Double
    /// tc only sends this when another correlation is set too (an iproute2
    /// quirk); netfault always sends it.
    public var duplicateCorrelation: Double
    /// Percentage of packets sent at once, ahead of the delayed rest (`reorder 25%`); needs a delay.
    public var reorder: Double
    public var reorderCorrelation: Double
    /// Reorder only every `gap`-th packet (`reorder 25% gap 5`); nil: every packet may be (tc's gap 1).
    public var gap: UInt32?
    /// Percentage of packets with one random bit flipped (`corrupt 0.1%`).
    public var corrupt: Double
    public var corruptCorrelation: Double
    /// Bytes per second leaving the qdisc (`rate 10mbit` is 1,250,000); nil: unlimited.
    public var rate: UInt64?
    /// Packets the qdisc holds at most (`limit 1000`, tc's default).
    public var limit: UInt32

    public init(delay: UInt64 = 0, jitter: UInt64 = 0, delayCorrelation: Double = 0,
                loss: Double = 0, lossCorrelation: Double = 0,
                duplicate: Double = 0, duplicateCorrelation: Double = 0,
                reorder: Double = 0, reorderCorrelation: Double = 0, gap: UInt32? = nil,
                corrupt: Double = 0, corruptCorrelation: Double = 0,
                rate: UInt64? = nil, limit: UInt32 = 1000) {
        self.delay = delay
        self.jitter = jitter
        self.delayCorrelation = delayCorrelation
        self.loss = loss
        self.lossCorrelation = lossCorrelation
        self.duplicate = duplicate
        self.duplicateCorrelation = duplicateCorrelation
        self.reorder = reorder
        self.reorderCorrelation = reorderCorrelation
        self.gap = gap
        self.corrupt = corrupt
        self.corruptCorrelation = corruptCorrelation
        self.rate = rate
        self.limit = limit
    }

    /// The largest jitter the kernel keeps (it caps larger values to this): INT_MAX ns.
    public static let maximumJitter = UInt64(Int32.max)

    /// What tc or the kernel would refuse, or the kernel would silently change,
    /// one readable message each; empty when the options are usable.
    public func validationErrors() -> [String] {
        var errors: [String] = []
        let percentages: [(String, Double)] = [
            ("delay correlation", delayCorrelation), ("loss", loss), ("loss correlation", lossCorrelation),
            ("duplicate", duplicate), ("duplicate correlation", duplicateCorrelation),
            ("reorder", reorder), ("reorder correlation", reorderCorrelation),
            ("corrupt", corrupt), ("corrupt correlation", corruptCorrelation),
        ]
        for (name, value) in percentages where !(value >= 0 && value <= 100) {
            errors.append("\(name) \(value) % is outside 0…100 %")
        }
        if delay > UInt64(Int64.max) {
            errors.append("delay \(delay) ns does not fit the kernel's signed 64-bit nanoseconds")
        }
        if jitter > Self.maximumJitter {
            errors.append("jitter \(jitter) ns exceeds \(Self.maximumJitter) ns (≈2.147 s), where the kernel caps it")
        }
        if reorder > 0 && delay == 0 {
            errors.append("reorder needs a delay: reordered packets are the ones sent without it (tc refuses too)")
        }
        if let gap, reorder == 0 {
            errors.append("gap \(gap) needs a reorder percentage (tc refuses a gap without reorder)")
        }
        if gap == 0 {
            errors.append("gap 0 would never reorder: use 1 or more, or leave it out")
        }
        if rate == 0 {
            errors.append("rate 0 means no rate limit to the kernel: leave rate out instead")
        }
        if limit == 0 {
            errors.append("limit 0 drops every packet (the kernel accepts it): use 1 or more")
        }
        return errors
    }

    // MARK: - Encoding

    /// tc's scaling of a percentage to u32 (iproute2 q_netem.c set_percent:
    /// rint(percent / 100 × UINT32_MAX), ties to even): 5 % → 0x0CCCCCCD.
    /// Out-of-range or NaN input is clamped (validation reports it).
    public static func scaled(percent: Double) -> UInt32 {
        guard percent > 0 else { return 0 }
        guard percent < 100 else { return UInt32.max }
        return UInt32((percent / 100 * Double(UInt32.max)).rounded(.toNearestOrEven))
    }

    /// The percentage a scaled u32 stands for; `scaled(percent:)` maps it back to the same u32.
    public static func percent(scaled value: UInt32) -> Double {
        Double(value) / Double(UInt32.max) * 100
    }

    /// The arguments of `tc qdisc add … netem` that ask for these options,
    /// e.g. "delay 20ms 5ms 25% loss 5% 30% limit 500".
    public var tcArguments: String {
        var words: [String] = []
        if delay > 0 || jitter > 0 {
            words += ["delay", Self.time(delay)]
            if jitter > 0 || delayCorrelation > 0 { words.append(Self.time(jitter)) }
            if delayCorrelation > 0 { words.append(Self.percentText(delayCorrelation)) }
        }
        func add(_ name: String, _ value: Double, _ correlation: Double) {
            guard value > 0 || correlation > 0 else { return }
            words += [name, Self.percentText(value)]
            if correlation > 0 { words.append(Self.percentText(correlation)) }
        }
        add("loss", loss, lossCorrelation)
        add("duplicate", duplicate, duplicateCorrelation)
        add("reorder", reorder, reorderCorrelation)
        if let gap { words += ["gap", String(gap)] }
        add("corrupt", corrupt, corruptCorrelation)
        if let rate { words += ["rate", Self.rateText(rate)] }
        words += ["limit", String(limit)]
        return words.joined(separator: " ")
    }

    /// TCA_OPTIONS as iproute2 ≥ 6.9 sends it: struct tc_netem_qopt with the
    /// 32-bit tick times left 0, then LATENCY64 and JITTER64 (nanoseconds,
    /// kernel ≥ 4.15), CORR, REORDER, CORRUPT, RATE64 and RATE, each only when used.
    func encode(into m: NetlinkMessageWriter) {
        let reorderScaled = Self.scaled(percent: reorder)
        // tc: a reorder percentage without a gap means gap 1.
        let gapValue = reorderScaled != 0 && (gap ?? 0) == 0 ? 1 : (gap ?? 0)
        // struct tc_netem_qopt { latency, limit, loss, gap, duplicate, jitter }
        let qopt = [0, limit, Self.scaled(percent: loss), gapValue, Self.scaled(percent: duplicate), 0]
        m.put(UInt16(TCA_OPTIONS), leading: Self.bytes(qopt)) {
            if delay > 0 { m.put(TrafficControl.netemLatency64, bytes: Self.bytes(delay)) }
            if jitter > 0 { m.put(TrafficControl.netemJitter64, bytes: Self.bytes(jitter)) }
            let correlations = [delayCorrelation, lossCorrelation, duplicateCorrelation, reorderCorrelation, corruptCorrelation]
            if correlations.contains(where: { Self.scaled(percent: $0) != 0 }) {
                // struct tc_netem_corr { delay_corr, loss_corr, dup_corr }
                m.put(TrafficControl.netemCorrelation, bytes: Self.bytes([delayCorrelation, lossCorrelation, duplicateCorrelation]
                    .map(Self.scaled(percent:))))
            }
            if reorderScaled != 0 || Self.scaled(percent: reorderCorrelation) != 0 {
                // struct tc_netem_reorder { probability, correlation }
                m.put(TrafficControl.netemReorder, bytes: Self.bytes([reorderScaled, Self.scaled(percent: reorderCorrelation)]))
            }
            if Self.scaled(percent: corrupt) != 0 || Self.scaled(percent: corruptCorrelation) != 0 {
                // struct tc_netem_corrupt { probability, correlation }
                m.put(TrafficControl.netemCorrupt, bytes: Self.bytes([Self.scaled(percent: corrupt), Self.scaled(percent: corruptCorrelation)]))
            }
            if let rate {
                // tc: RATE64 first when the rate needs more than 32 bits, and then rate.rate = ~0.
                if rate > UInt64(UInt32.max) { m.put(TrafficControl.netemRate64, bytes: Self.bytes(rate)) }
                // struct tc_netem_rate { rate, packet_overhead, cell_size, cell_overhead }
                m.put(TrafficControl.netemRate, bytes: Self.bytes([UInt32(clamping: rate), 0, 0, 0]))
            }
        }
    }

    // MARK: - Decoding

    /// Decodes a netem qdisc's TCA_OPTIONS as the kernel dumps it
    /// (`QdiscInfo.options`): struct tc_netem_qopt, whose 32-bit tick times
    /// LATENCY64/JITTER64 refine when ticks cannot hold them exactly, then
    /// CORR, REORDER, CORRUPT and RATE (always sent, zero when unused) and RATE64.
    public init(kernelOptions value: ArraySlice<UInt8>) throws {
        let size = TrafficControl.netemQoptSize, base = value.startIndex
        guard value.count >= size else {
            throw NetlinkDecodeError(reason: "netem options of \(value.count) bytes are shorter than tc_netem_qopt (\(size))")
        }
        func u32(_ field: Int) -> UInt32 { value.loadU32(at: base + 4 * field) }
        let attributes = try NetlinkDecoder.attributes(value[(base + size)...])
        func fields(_ type: UInt16, _ count: Int) throws -> [UInt32]? {
            guard let data = attributes[type] else { return nil }
            guard data.count >= 4 * count else {
                throw NetlinkDecodeError(reason: "netem attribute \(type) has \(data.count) bytes, expected \(4 * count)")
            }
            return (0..<count).map { data.loadU32(at: data.startIndex + 4 * $0) }
        }
        func u64(_ type: UInt16) throws -> UInt64? {
            guard let data = attributes[type] else { return nil }
            guard data.count >= 8 else { throw NetlinkDecodeError(reason: "netem attribute \(type) has \(data.count) bytes, expected 8") }
            return data.loadU64(at: data.startIndex)
        }
        let percent = Self.percent(scaled:)
        self.init(limit: u32(1))
        delay = try u64(TrafficControl.netemLatency64) ?? UInt64(u32(0)) << TrafficControl.pschedShift
        jitter = try u64(TrafficControl.netemJitter64) ?? UInt64(u32(5)) << TrafficControl.pschedShift
        loss = percent(u32(2))
        gap = u32(3) == 0 ? nil : u32(3)
        duplicate = percent(u32(4))
        if let correlation = try fields(TrafficControl.netemCorrelation, 3) {
            (delayCorrelation, lossCorrelation, duplicateCorrelation) = (percent(correlation[0]), percent(correlation[1]), percent(correlation[2]))
        }
        if let reordering = try fields(TrafficControl.netemReorder, 2) {
            (reorder, reorderCorrelation) = (percent(reordering[0]), percent(reordering[1]))
        }
        if let corruption = try fields(TrafficControl.netemCorrupt, 2) {
            (corrupt, corruptCorrelation) = (percent(corruption[0]), percent(corruption[1]))
        }
        let rate32 = try fields(TrafficControl.netemRate, 4)?[0] ?? 0
        let rate64 = try u64(TrafficControl.netemRate64) ?? 0
        let bytesPerSecond = max(UInt64(rate32), rate64)
        rate = bytesPerSecond == 0 ? nil : bytesPerSecond
    }

    // MARK: - Helpers

    static func bytes(_ values: [UInt32]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    static func bytes(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// "20ms", "1500us", "1234567ns": the largest unit tc reads that keeps it exact.
    static func time(_ nanoseconds: UInt64) -> String {
        if nanoseconds != 0 && nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        if nanoseconds % 1_000 == 0 { return "\(nanoseconds / 1_000)us" }
        return "\(nanoseconds)ns"
    }

    /// "5%", "0.1%".
    static func percentText(_ value: Double) -> String {
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        return text + "%"
    }

    /// tc's rate words: "10mbit" is 10,000,000 bits/s, "bps" is bytes/s.
    static func rateText(_ bytesPerSecond: UInt64) -> String {
        let (bits, overflow) = bytesPerSecond.multipliedReportingOverflow(by: 8)
        guard !overflow else { return "\(bytesPerSecond)bps" }
        for (unit, scale) in [("gbit", 1_000_000_000), ("mbit", 1_000_000), ("kbit", 1_000)] as [(String, UInt64)]
        where bits >= scale && bits % scale == 0 {
            return "\(bits / scale)\(unit)"
        }
        return "\(bits)bit"
    }
}

extension Rtnetlink {
    /// Equivalent to `tc qdisc add dev INTERFACE root handle 1: netem delay 20ms
    /// 5ms 25% loss 5% … limit 1000` (the operation names the exact arguments):
    /// RTM_NEWQDISC with NLM_F_CREATE|NLM_F_EXCL, so an existing root qdisc
    /// other than the default is an error (EEXIST), not replaced.
    public static func newNetem(interfaceIndex: Int32, interface: String, options: NetemOptions) -> NetlinkMessage {
        TrafficControl.newRootQdisc(kind: "netem", interfaceIndex: interfaceIndex, interface: interface,
                                    arguments: options.tcArguments, encode: options.encode)
    }
}
