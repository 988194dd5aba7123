import Foundation
import Glibc
import Testing
@testable import NetfaultKernel

/// The netem request, checked against what tc sends.
///
/// Reference bytes: iproute2 6.15.0 (Debian bookworm-backports package
/// 6.15.0-1~bpo12+1, unpacked into a scratch directory, not installed), captured
/// with `unshare -n strace -f -e trace=sendmsg -e write=3 -e raw=sendmsg
/// tc qdisc add dev lo root handle 1: netem ARGUMENTS` on this machine: its kernel
/// has no netem and answers ENOENT, but strace shows the request. The hex below is
/// strace's dump, pasted whole; only nlmsg_seq (bytes 8..<12, tc's time of day)
/// is zeroed before comparing. ARGUMENTS is each case's `tcArguments`, so the
/// test also shows tc reads netfault's description of a request as that request.
///
/// iproute2 < 6.9 (Debian 12's 6.1.0) sends the same bytes for everything but
/// times: it puts 64 ns ticks into tc_netem_qopt.latency/jitter (20 ms →
/// b4 c4 04 00) and no LATENCY64/JITTER64. Kernels ≥ 4.15 prefer the 64-bit
/// attributes, which are exact and not capped at 2^32 ticks (≈275 s).
@Suite struct NetemTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let options: NetemOptions
        let arguments: String
        let tc: String
        var testDescription: String { arguments }
    }

    static let cases: [Case] = [
        Case(options: NetemOptions(delay: 20_000_000, jitter: 5_000_000, delayCorrelation: 25, loss: 5, lossCorrelation: 30,
                                   duplicate: 1, reorder: 25, reorderCorrelation: 50, corrupt: 0.1, rate: 1_250_000, limit: 500),
             arguments: "delay 20ms 5ms 25% loss 5% 30% duplicate 1% reorder 25% 50% corrupt 0.1% rate 10mbit limit 500",
             tc: """
                 a0 00 00 00 24 00 05 06 3d 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 70 00 02 00 00 00 00 00 f4 01 00 00
                 cd cc cc 0c 01 00 00 00 29 5c 8f 02 00 00 00 00 0c 00 0a 00
                 00 2d 31 01 00 00 00 00 0c 00 0b 00 40 4b 4c 00 00 00 00 00
                 10 00 01 00 00 00 00 40 cc cc cc 4c 00 00 00 00 0c 00 03 00
                 00 00 00 40 00 00 00 80 0c 00 04 00 37 89 41 00 00 00 00 00
                 14 00 06 00 d0 12 13 00 00 00 00 00 00 00 00 00 00 00 00 00
                 """),
        Case(options: NetemOptions(delay: 100_000_000), arguments: "delay 100ms limit 1000", tc: """
                 58 00 00 00 24 00 05 06 3d 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 28 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 0c 00 0a 00
                 00 e1 f5 05 00 00 00 00
                 """),
        Case(options: NetemOptions(loss: 5), arguments: "loss 5% limit 1000", tc: """
                 4c 00 00 00 24 00 05 06 3d 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 1c 00 02 00 00 00 00 00 e8 03 00 00
                 cd cc cc 0c 00 00 00 00 00 00 00 00 00 00 00 00
                 """),
        // tc sends TCA_NETEM_CORR (all zero) whenever a corrupt or reorder correlation is given.
        Case(options: NetemOptions(corrupt: 0.1, corruptCorrelation: 20), arguments: "corrupt 0.1% 20% limit 1000", tc: """
                 68 00 00 00 24 00 05 06 3d 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 38 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 10 00 01 00
                 00 00 00 00 00 00 00 00 00 00 00 00 0c 00 04 00 37 89 41 00
                 33 33 33 33
                 """),
        Case(options: NetemOptions(delay: 10_000_000, reorder: 25, gap: 5), arguments: "delay 10ms reorder 25% gap 5 limit 1000", tc: """
                 64 00 00 00 24 00 05 06 3d 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 34 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00 0c 00 0a 00
                 80 96 98 00 00 00 00 00 0c 00 03 00 00 00 00 40 00 00 00 00
                 """),
        // A reorder percentage without a gap: tc sends gap 1.
        Case(options: NetemOptions(delay: 10_000_000, reorder: 25), arguments: "delay 10ms reorder 25% limit 1000", tc: """
                 64 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 34 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 0c 00 0a 00
                 80 96 98 00 00 00 00 00 0c 00 03 00 00 00 00 40 00 00 00 00
                 """),
        // Over 32 bits: TCA_NETEM_RATE64 first, then TCA_NETEM_RATE with rate ~0.
        Case(options: NetemOptions(rate: 5_000_000_000), arguments: "rate 40gbit limit 1000", tc: """
                 6c 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 3c 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 0c 00 08 00
                 00 f2 05 2a 01 00 00 00 14 00 06 00 ff ff ff ff 00 00 00 00
                 00 00 00 00 00 00 00 00
                 """),
        Case(options: NetemOptions(rate: 1_234_567), arguments: "rate 9876536bit limit 1000", tc: """
                 60 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 30 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 14 00 06 00
                 87 d6 12 00 00 00 00 00 00 00 00 00 00 00 00 00
                 """),
        // Jitter larger than the delay: tc and the kernel accept it.
        Case(options: NetemOptions(delay: 10_000_000, jitter: 20_000_000), arguments: "delay 10ms 20ms limit 1000", tc: """
                 64 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 34 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 0c 00 0a 00
                 80 96 98 00 00 00 00 00 0c 00 0b 00 00 2d 31 01 00 00 00 00
                 """),
        Case(options: NetemOptions(delay: 1_234_567, jitter: 3_000_000_000), arguments: "delay 1234567ns 3s limit 1000", tc: """
                 64 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 34 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 0c 00 0a 00
                 87 d6 12 00 00 00 00 00 0c 00 0b 00 00 5e d0 b2 00 00 00 00
                 """),
        Case(options: NetemOptions(loss: 5, lossCorrelation: 30, duplicate: 1, duplicateCorrelation: 10),
             arguments: "loss 5% 30% duplicate 1% 10% limit 1000", tc: """
                 5c 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 2c 00 02 00 00 00 00 00 e8 03 00 00
                 cd cc cc 0c 00 00 00 00 29 5c 8f 02 00 00 00 00 10 00 01 00
                 00 00 00 00 cc cc cc 4c 9a 99 99 19
                 """),
        Case(options: NetemOptions(limit: 0), arguments: "limit 0", tc: """
                 4c 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 1c 00 02 00 00 00 00 00 00 00 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
                 """),
        // The defaults are tc's: a bare tc_netem_qopt with limit 1000 (what KernelProbes.netem sends).
        Case(options: NetemOptions(), arguments: "limit 1000", tc: """
                 4c 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
                 01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
                 6e 65 74 65 6d 00 00 00 1c 00 02 00 00 00 00 00 e8 03 00 00
                 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
                 """),
    ]

    /// tc's bytes with nlmsg_seq zeroed (netfault's sockets set it when sending).
    static func tcBytes(_ hex: String) -> [UInt8] {
        var bytes = KT.hex(hex)
        bytes.replaceSubrange(8..<12, with: [0, 0, 0, 0])
        return bytes
    }

    static func request(_ options: NetemOptions) -> NetlinkMessage {
        Rtnetlink.newNetem(interfaceIndex: 1, interface: "lo", options: options)  // lo is index 1 in tc's namespace
    }

    @Test(arguments: cases)
    func matchesTcByteForByte(_ example: Case) {
        let message = Self.request(example.options)
        #expect(message.bytes == Self.tcBytes(example.tc))
        #expect(example.options.tcArguments == example.arguments)
        #expect(message.operation == "tc qdisc add dev lo root handle 1: netem \(example.arguments)")
    }

    /// `duplicate 1% 10%` alone: tc 6.1 and 6.15 drop the correlation (it never
    /// marks TCA_NETEM_CORR present for it; with `loss 5% 30%` beside it, it is
    /// sent, see above). netfault sends it; everything else is tc's.
    @Test func duplicateCorrelationAloneIsSentUnlikeTc() {
        let tc = Self.tcBytes("""
            4c 00 00 00 24 00 05 06 3e 82 01 6b 00 00 00 00 00 00 00 00
            01 00 00 00 00 00 01 00 ff ff ff ff 00 00 00 00 0a 00 01 00
            6e 65 74 65 6d 00 00 00 1c 00 02 00 00 00 00 00 e8 03 00 00
            00 00 00 00 00 00 00 00 29 5c 8f 02 00 00 00 00
            """)
        let message = Self.request(NetemOptions(duplicate: 1, duplicateCorrelation: 10)).bytes
        // nlmsg_len and TCA_OPTIONS' length grow by one 16-byte TCA_NETEM_CORR.
        #expect(KT.u32(message, 0) == 0x4c + 16)
        #expect(KT.u16(message, 48) == 0x1c + 16)
        #expect(Array(message[4..<48]) == Array(tc[4..<48]))
        #expect(Array(message[50..<76]) == Array(tc[50..<76]))
        #expect(Array(message[76...]) == KT.attribute(1, KT.le32(0) + KT.le32(0) + KT.le32(0x1999_999A)))
    }

    // MARK: - Percent scaling

    /// Values from the captures above (tc's rint(p / 100 × UINT32_MAX), ties to even).
    @Test(arguments: [
        (5.0, 0x0CCC_CCCD as UInt32), (30, 0x4CCC_CCCC), (1, 0x028F_5C29), (0.1, 0x0041_8937), (20, 0x3333_3333),
        (25, 0x4000_0000), (50, 0x8000_0000), (10, 0x1999_999A), (100, 0xFFFF_FFFF), (0, 0),
    ])
    func percentScalesAsTcDoes(_ percent: Double, _ scaled: UInt32) {
        #expect(NetemOptions.scaled(percent: percent) == scaled)
        #expect(NetemOptions.scaled(percent: NetemOptions.percent(scaled: scaled)) == scaled)
    }

    @Test func percentOutsideTheRangeIsClamped() {
        #expect(NetemOptions.scaled(percent: -1) == 0)
        #expect(NetemOptions.scaled(percent: .nan) == 0)
        #expect(NetemOptions.scaled(percent: 250) == UInt32.max)
        #expect(NetemOptions.scaled(percent: .infinity) == UInt32.max)
    }

    @Test func everyScaledValueSurvivesTheRoundTrip() {
        var generator = KTSplitMix64(seed: 0x6E65_7465_6D)
        let changed = (0..<100_000).map { _ in UInt32.random(in: .min ... .max, using: &generator) }
            .filter { NetemOptions.scaled(percent: NetemOptions.percent(scaled: $0)) != $0 }
        #expect(changed.isEmpty, "\(changed.prefix(5))")
        for value in [UInt32(0), 1, 2, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF] {
            #expect(NetemOptions.scaled(percent: NetemOptions.percent(scaled: value)) == value)
        }
    }

    // MARK: - tc arguments

    @Test func tcArgumentsUseTheLargestExactUnit() {
        #expect(NetemOptions(delay: 2_000_000_000).tcArguments == "delay 2s limit 1000")
        #expect(NetemOptions(delay: 1_500_000).tcArguments == "delay 1500us limit 1000")
        #expect(NetemOptions(delay: 10_000_000, delayCorrelation: 25).tcArguments == "delay 10ms 0ms 25% limit 1000")
        #expect(NetemOptions(rate: 125).tcArguments == "rate 1kbit limit 1000")
        #expect(NetemOptions(rate: 3).tcArguments == "rate 24bit limit 1000")
        #expect(NetemOptions(rate: UInt64.max).tcArguments == "rate 18446744073709551615bps limit 1000")
    }

    // MARK: - Validation

    @Test func usableOptionsHaveNoErrors() {
        #expect(NetemOptions().validationErrors().isEmpty)
        #expect(NetemOptions(delay: 10_000_000, jitter: 20_000_000).validationErrors().isEmpty, "jitter > delay is allowed")
        #expect(NetemOptions(delay: 1, reorder: 100, gap: 1).validationErrors().isEmpty)
        #expect(NetemOptions(loss: 100, duplicate: 0, corrupt: 100).validationErrors().isEmpty)
        #expect(NetemOptions(jitter: NetemOptions.maximumJitter).validationErrors().isEmpty)
    }

    @Test func eachProblemIsNamedOnce() {
        let errors = NetemOptions(delayCorrelation: -1, loss: 101, lossCorrelation: .nan, duplicate: 100.5, duplicateCorrelation: 200,
                                  reorder: 25, reorderCorrelation: -0.5, corrupt: .infinity, corruptCorrelation: 100.01).validationErrors()
        #expect(errors == [
            "delay correlation -1.0 % is outside 0…100 %",
            "loss 101.0 % is outside 0…100 %",
            "loss correlation nan % is outside 0…100 %",
            "duplicate 100.5 % is outside 0…100 %",
            "duplicate correlation 200.0 % is outside 0…100 %",
            "reorder correlation -0.5 % is outside 0…100 %",
            "corrupt inf % is outside 0…100 %",
            "corrupt correlation 100.01 % is outside 0…100 %",
            "reorder needs a delay: reordered packets are the ones sent without it (tc refuses too)",
        ])
    }

    @Test func kernelLimitsAndTcRefusals() {
        #expect(NetemOptions(delay: UInt64(Int64.max) + 1).validationErrors()
            == ["delay 9223372036854775808 ns does not fit the kernel's signed 64-bit nanoseconds"])
        #expect(NetemOptions(jitter: NetemOptions.maximumJitter + 1).validationErrors()
            == ["jitter 2147483648 ns exceeds 2147483647 ns (≈2.147 s), where the kernel caps it"])
        #expect(NetemOptions(gap: 5).validationErrors() == ["gap 5 needs a reorder percentage (tc refuses a gap without reorder)"])
        #expect(NetemOptions(delay: 1, reorder: 5, gap: 0).validationErrors() == ["gap 0 would never reorder: use 1 or more, or leave it out"])
        #expect(NetemOptions(rate: 0).validationErrors() == ["rate 0 means no rate limit to the kernel: leave rate out instead"])
        #expect(NetemOptions(limit: 0).validationErrors() == ["limit 0 drops every packet (the kernel accepts it): use 1 or more"])
    }

    // MARK: - Decoding what the kernel dumps

    /// Builds a kernel-style TCA_OPTIONS value: tc_netem_qopt, then attributes.
    static func kernelOptions(qopt: [UInt32], _ attributes: [UInt8]...) -> ArraySlice<UInt8> {
        ArraySlice(qopt.flatMap(KT.le32) + attributes.flatMap { $0 })
    }

    @Test func decodesTicksWhenNo64BitTimesAreSent() throws {
        // delay 20ms 5ms as 64 ns ticks, limit 500, loss 5 %, gap 1, duplicate 1 %; CORR, REORDER, CORRUPT and RATE zero.
        let value = Self.kernelOptions(qopt: [312_500, 500, 0x0CCC_CCCD, 1, 0x028F_5C29, 78_125],
                                       KT.attribute(1, [UInt8](repeating: 0, count: 12)), KT.attribute(3, [UInt8](repeating: 0, count: 8)),
                                       KT.attribute(4, [UInt8](repeating: 0, count: 8)), KT.attribute(6, [UInt8](repeating: 0, count: 16)))
        let options = try NetemOptions(kernelOptions: value)
        #expect(options.delay == 20_000_000 && options.jitter == 5_000_000)
        #expect(options.limit == 500 && options.gap == 1 && options.rate == nil)
        #expect(NetemOptions.scaled(percent: options.loss) == 0x0CCC_CCCD)
        #expect(NetemOptions.scaled(percent: options.duplicate) == 0x028F_5C29)
        #expect(options.delayCorrelation == 0 && options.reorder == 0 && options.corrupt == 0)
    }

    @Test func decodes64BitTimesAndRates() throws {
        let value = Self.kernelOptions(qopt: [19_290, 1000, 0, 0, 0, 46_875_000],
                                       KT.attribute(10, KT.le64(1_234_567)),
                                       KT.attribute(1, KT.le32(0x4000_0000) + KT.le32(0) + KT.le32(0x1999_999A)),
                                       KT.attribute(3, KT.le32(0x4000_0000) + KT.le32(0x8000_0000)),
                                       KT.attribute(4, KT.le32(0x0041_8937) + KT.le32(0x3333_3333)),
                                       KT.attribute(8, KT.le64(5_000_000_000)),
                                       KT.attribute(6, KT.le32(0xFFFF_FFFF) + [UInt8](repeating: 0, count: 12)))
        let options = try NetemOptions(kernelOptions: value)
        #expect(options.delay == 1_234_567, "LATENCY64 wins over the ticks")
        #expect(options.jitter == 3_000_000_000, "no JITTER64: ticks × 64")
        #expect(options.rate == 5_000_000_000)
        #expect(Self.request(options).bytes == Self.request(NetemOptions(
            delay: 1_234_567, jitter: 3_000_000_000, delayCorrelation: 25, duplicateCorrelation: 10,
            reorder: 25, reorderCorrelation: 50, corrupt: 0.1, corruptCorrelation: 20, rate: 5_000_000_000)).bytes)
    }

    @Test func truncatedOptionsAreRefused() {
        #expect(throws: NetlinkDecodeError.self) { try NetemOptions(kernelOptions: ArraySlice([UInt8](repeating: 0, count: 20))) }
        // A CORR attribute shorter than tc_netem_corr.
        #expect(throws: NetlinkDecodeError.self) {
            try NetemOptions(kernelOptions: Self.kernelOptions(qopt: [0, 1000, 0, 0, 0, 0], KT.attribute(1, KT.le32(1))))
        }
        #expect(throws: NetlinkDecodeError.self) {
            try NetemOptions(kernelOptions: Self.kernelOptions(qopt: [0, 1000, 0, 0, 0, 0], KT.attribute(10, KT.le32(1))))
        }
    }

    // MARK: - tc qdisc show

    /// iproute2 6.1 and 6.15, `unshare -n strace … tc qdisc show`: RTM_GETQDISC (0x26),
    /// NLM_F_REQUEST|NLM_F_DUMP, an all-zero tcmsg.
    @Test func dumpRequestMatchesTc() {
        #expect(Rtnetlink.dumpQdiscs().bytes == Self.tcBytes("""
            24 00 00 00 26 00 01 03 1d 82 01 6b 00 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """))
    }

    @Test func decodesAQdiscMessage() throws {
        let tcmsg = [UInt8](repeating: 0, count: 4) + KT.le32(10) + KT.le32(0x1_0000) + KT.le32(0xFFFF_FFFF) + KT.le32(2)
        let options = KT.le32(0) + KT.le32(1000) + [UInt8](repeating: 0, count: 16)
        let bytes = KT.message(type: 36, flags: 2, payload: tcmsg + KT.attribute(1, Array("netem\0".utf8)) + KT.attribute(2, options))
        let message = try #require(try NetlinkDecoder.messages(bytes[...]).first)
        let qdisc = try Rtnetlink.qdisc(message)
        #expect(qdisc.interfaceIndex == 10 && qdisc.handle == 0x1_0000 && qdisc.isRoot && qdisc.kind == "netem")
        #expect(qdisc.options.map(Array.init) == options)
        let value = try #require(qdisc.options)
        #expect(try NetemOptions(kernelOptions: value) == NetemOptions())
        let other = try #require(try NetlinkDecoder.messages(KT.message(type: 16, flags: 2, payload: tcmsg)[...]).first)
        #expect(throws: NetlinkDecodeError.self) { try Rtnetlink.qdisc(other) }
    }
}

/// Decoding real kernel dumps: Debian's 6.1.0-56-amd64 in a VM answering
/// `tc qdisc show dev nfa` (iproute2 6.15 under `strace -e trace=recvmsg -e read=…`)
/// after `tc qdisc add dev nfa root handle 1: netem ARGUMENTS`, each RTM_NEWQDISC
/// message pasted whole. The kernel sends tick times, LATENCY64/JITTER64 anyway,
/// CORR/REORDER/CORRUPT/RATE even when zero, then TCA_HW_OFFLOAD and TCA_STATS2.
@Suite struct NetemKernelDumpTests {
    static func decode(_ hex: String) throws -> (QdiscInfo, NetemOptions) {
        let message = try #require(try NetlinkDecoder.messages(KT.hex(hex)[...]).first)
        let qdisc = try Rtnetlink.qdisc(message)
        return (qdisc, try NetemOptions(kernelOptions: try #require(qdisc.options)))
    }

    @Test func everyOptionStoredIsDecoded() throws {
        // delay 20ms 5ms 25% loss 5% 30% duplicate 1% reorder 25% 50% corrupt 0.1% rate 10mbit limit 500
        let (qdisc, options) = try Self.decode("""
            04 01 00 00 24 00 02 00 74 82 01 6b fb 00 00 00 00 00 00 00 03 00 00 00 00 00 01 00 ff ff ff ff
            03 00 00 00 0a 00 01 00 6e 65 74 65 6d 00 00 00 70 00 02 00 b4 c4 04 00 f4 01 00 00 cd cc cc 0c
            01 00 00 00 29 5c 8f 02 2d 31 01 00 0c 00 0a 00 00 2d 31 01 00 00 00 00 0c 00 0b 00 40 4b 4c 00
            00 00 00 00 10 00 01 00 00 00 00 40 cc cc cc 4c 00 00 00 00 0c 00 03 00 00 00 00 40 00 00 00 80
            0c 00 04 00 37 89 41 00 00 00 00 00 14 00 06 00 d0 12 13 00 00 00 00 00 00 00 00 00 00 00 00 00
            05 00 0c 00 00 00 00 00 30 00 07 00 14 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            18 00 03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 2c 00 03 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            00 00 00 00
            """)
        #expect(qdisc == QdiscInfo(interfaceIndex: 3, handle: 0x1_0000, parent: 0xFFFF_FFFF, kind: "netem", options: qdisc.options))
        #expect(qdisc.options?.count == 0x70 - 4)
        #expect(options.delay == 20_000_000 && options.jitter == 5_000_000 && options.limit == 500 && options.gap == 1)
        #expect(options.rate == 1_250_000)
        let sent = NetemTests.cases[0].options
        #expect(NetemTests.request(options).bytes == NetemTests.request(sent).bytes, "stored as sent")
    }

    @Test func theKernelCapsJitterAndKeepsRate64() throws {
        // delay 1234567ns 3s rate 40gbit limit 1000
        let (_, options) = try Self.decode("""
            10 01 00 00 24 00 02 00 75 82 01 6b 02 01 00 00 00 00 00 00 03 00 00 00 00 00 01 00 ff ff ff ff
            03 00 00 00 0a 00 01 00 6e 65 74 65 6d 00 00 00 7c 00 02 00 5a 4b 00 00 e8 03 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 ff ff ff 01 0c 00 0a 00 87 d6 12 00 00 00 00 00 0c 00 0b 00 ff ff ff 7f
            00 00 00 00 10 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 0c 00 03 00 00 00 00 00 00 00 00 00
            0c 00 04 00 00 00 00 00 00 00 00 00 0c 00 08 00 00 f2 05 2a 01 00 00 00 14 00 06 00 ff ff ff ff
            00 00 00 00 00 00 00 00 00 00 00 00 05 00 0c 00 00 00 00 00 30 00 07 00 14 00 01 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 18 00 03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            00 00 00 00 2c 00 03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """)
        #expect(options == NetemOptions(delay: 1_234_567, jitter: NetemOptions.maximumJitter, rate: 5_000_000_000))
    }
}

enum NetemKernel {
    /// The netem probe's answer from KernelProbesTests' single run (so no
    /// namespace is opened while that suite compares its fds).
    static var present: Bool {
        Privileges.canManageNetworks && KernelProbesTests.run.results.contains { $0.name == KernelProbes.Name.netem && $0.present }
    }
}

/// netem for real, where the running kernel has it (not this machine's 6.18:
/// there the suite is skipped). Run inside Debian's 6.1 kernel, after
/// `swift build --build-tests`, with the test bundle itself (~35 s, boot included):
/// `scripts/in-vm debian -- .build/debug/netfaultPackageTests.xctest --testing-library swift-testing --filter NetemKernelTests`
/// (`swift test --skip-build … --filter NetemKernelTests` works too, but takes ~100 s
/// under emulation and warns that its caches are read-only).
/// Every test makes its own namespaces, which vanish when released.
@Suite(.serialized, .enabled(if: KT.canManageNetworks, KT.needsRoot),
       .enabled(if: NetemKernel.present, "the running kernel has no sch_netem (see `netfault doctor`)"))
struct NetemKernelTests {

    /// A veth with both ends in one namespace (nfn-a index 10, nfn-b 11), both up.
    static func namespaceWithVeth() throws -> NetworkNamespace {
        let ns = try NetworkNamespace(name: "nfkt-netem")
        try ns.rtnetlink().perform([
            Rtnetlink.newVeth(name: "nfn-a", index: 10, peer: "nfn-b", peerIndex: 11, peerNamespaceFD: ns.fd, mtu: nil),
            Rtnetlink.setUp(index: 10, name: "nfn-a"), Rtnetlink.setUp(index: 11, name: "nfn-b"),
        ])
        return ns
    }

    /// `tc qdisc show dev nfn-a`, decoded.
    static func netem(on index: Int32, in ns: NetworkNamespace) throws -> NetemOptions? {
        let qdiscs = try ns.rtnetlink().dump(Rtnetlink.dumpQdiscs()).map(Rtnetlink.qdisc)
        guard let qdisc = qdiscs.first(where: { $0.interfaceIndex == index && $0.isRoot }), qdisc.kind == "netem" else { return nil }
        #expect(qdisc.handle == 0x1_0000)
        return try NetemOptions(kernelOptions: #require(qdisc.options))
    }

    static let stored: [NetemOptions] = [
        NetemOptions(delay: 20_000_000, jitter: 5_000_000, delayCorrelation: 25, loss: 5, lossCorrelation: 30, duplicate: 1,
                     duplicateCorrelation: 10, reorder: 25, reorderCorrelation: 50, gap: 3, corrupt: 0.1, corruptCorrelation: 20,
                     rate: 1_250_000, limit: 500),
        NetemOptions(delay: 1_234_567, jitter: 65),
        NetemOptions(delay: 10_000_000, jitter: 20_000_000),
        NetemOptions(rate: 5_000_000_000),
        NetemOptions(duplicate: 1, duplicateCorrelation: 10),
        NetemOptions(limit: 0),
        NetemOptions(),
    ]

    @Test(arguments: stored)
    func theKernelStoresWhatWasSent(_ options: NetemOptions) throws {
        try KT.leavesNoTrace {
            let ns = try Self.namespaceWithVeth()
            try ns.rtnetlink().perform([Rtnetlink.newNetem(interfaceIndex: 10, interface: "nfn-a", options: options)])
            let readBack = try #require(try Self.netem(on: 10, in: ns), "no netem qdisc on nfn-a")
            #expect(readBack.delay == options.delay && readBack.jitter == options.jitter && readBack.limit == options.limit)
            #expect(readBack.rate == options.rate)
            // Re-encoded, what the kernel stored is byte for byte what was sent.
            let again = Rtnetlink.newNetem(interfaceIndex: 10, interface: "nfn-a", options: readBack)
            #expect(again.bytes == Rtnetlink.newNetem(interfaceIndex: 10, interface: "nfn-a", options: options).bytes)
        }
    }

    @Test func jitterAboveTheCapIsStoredCapped() throws {
        try KT.leavesNoTrace {
            let ns = try Self.namespaceWithVeth()
            let options = NetemOptions(delay: 1_000_000_000, jitter: 3_000_000_000)
            #expect(options.validationErrors().count == 1)
            try ns.rtnetlink().perform([Rtnetlink.newNetem(interfaceIndex: 10, interface: "nfn-a", options: options)])
            #expect(try Self.netem(on: 10, in: ns)?.jitter == NetemOptions.maximumJitter)
        }
    }

    @Test func whatTheKernelAcceptsThatTcRefuses() throws {
        try KT.leavesNoTrace {
            // Reorder without delay: tc refuses, the kernel takes it (and then never reorders).
            let ns = try Self.namespaceWithVeth()
            let options = NetemOptions(reorder: 25)
            #expect(!options.validationErrors().isEmpty)
            try ns.rtnetlink().perform([Rtnetlink.newNetem(interfaceIndex: 10, interface: "nfn-a", options: options)])
            #expect(try Self.netem(on: 10, in: ns)?.reorder == NetemOptions.percent(scaled: 0x4000_0000))
        }
    }

    @Test func aSecondNetemIsRefusedWithTheTcCommandNamed() throws {
        try KT.leavesNoTrace {
            let ns = try Self.namespaceWithVeth()
            let request = Rtnetlink.newNetem(interfaceIndex: 10, interface: "nfn-a", options: NetemOptions(delay: 1_000_000))
            try ns.rtnetlink().perform([request])
            #expect(throws: KernelError("tc qdisc add dev nfn-a root handle 1: netem delay 1ms limit 1000", errno: EEXIST,
                                        kernelMessage: "Exclusivity flag on, cannot modify")) {
                try ns.rtnetlink().perform([request])
            }
        }
    }

    /// The time of the client's `connect` from its peer events: seconds from
    /// "start" to the connect's completion (the peer reads CLOCK_MONOTONIC).
    static func connectSeconds(from client: NetworkNamespace, to address: String, port: Int) throws -> Double {
        let peer = try ChildProcess(.peer(PeerScript(["connect", address, String(port), "2000"])),
                                    in: client, environment: [:], t0: MonotonicClock.now())
        defer { peer.terminate() }
        #expect(peer.wait(timeoutSeconds: 5), "the client did not finish")
        var times: [String: Double] = [:]
        for line in peer.standardOutput.split(separator: "\n") {
            guard let event = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let call = event["call"] as? String, let time = event["t"] as? Double else { continue }
            if call == "connect" { #expect(event["result"] as? Int == 0, "connect failed: \(line)") }
            times[call] = time
        }
        let start = try #require(times["start"], "no start event: \(peer.standardOutput) \(peer.standardError)")
        let connected = try #require(times["connect"], "no connect event: \(peer.standardOutput) \(peer.standardError)")
        return connected - start
    }

    /// A 100 ms delay on the client's side of a veth: the SYN waits 100 ms, so
    /// connect takes at least that long; without the qdisc it does not.
    @Test func aDelayReallyDelays() throws {
        try KT.leavesNoTrace {
            let client = try NetworkNamespace(name: "nfkt-netem-c"), server = try NetworkNamespace(name: "nfkt-netem-s")
            try client.rtnetlink().perform([
                Rtnetlink.newVeth(name: "nfn-c", index: 5, peer: "nfn-s", peerIndex: 6, peerNamespaceFD: server.fd, mtu: nil),
                Rtnetlink.newAddress(IPAddress("10.77.253.1")!, prefixLength: 24, linkIndex: 5, link: "nfn-c"),
                Rtnetlink.setUp(index: 5, name: "nfn-c"),
            ])
            try server.rtnetlink().perform([
                Rtnetlink.newAddress(IPAddress("10.77.253.2")!, prefixLength: 24, linkIndex: 6, link: "nfn-s"),
                Rtnetlink.setUp(index: 6, name: "nfn-s"),
            ])
            let listener = try ChildProcess(.peer(PeerScript(["listen", "10.77.253.2", "8080", "hold"])),
                                            in: server, environment: [:], t0: MonotonicClock.now())
            defer { listener.terminate() }
            let socket = try NetlinkSocket.sockDiag(in: server)
            #expect(try KT.eventually { try !SockDiag.dump(socket, family: AF_INET).isEmpty }, "no listener: \(listener.standardError)")

            // First without netem: the first connect also resolves the neighbour (so
            // ARP is not delayed later); the faster of the next two is the baseline.
            _ = try Self.connectSeconds(from: client, to: "10.77.253.2", port: 8080)
            let before = try min(Self.connectSeconds(from: client, to: "10.77.253.2", port: 8080),
                                 Self.connectSeconds(from: client, to: "10.77.253.2", port: 8080))
            let start = MonotonicClock.now()
            try client.rtnetlink().perform([Rtnetlink.newNetem(interfaceIndex: 5, interface: "nfn-c",
                                                               options: NetemOptions(delay: 100_000_000))])
            let delayed = try Self.connectSeconds(from: client, to: "10.77.253.2", port: 8080)
            let wall = Double(MonotonicClock.now() - start) / 1e9
            #expect(delayed >= 0.1, "connect took \(delayed) s with 100 ms of delay")
            // Upper bound 1.1: a SYN lost instead of delayed is resent after the 1 s initial RTO,
            // so its connect takes ≥ 1.1 s; one delayed SYN is far below whatever the box's load.
            #expect(delayed < 1.1, "connect took \(delayed) s with 100 ms of delay")
            #expect(wall >= delayed)
            #expect(before < 0.1 && before < delayed - 0.05, "without netem: \(before) s, with: \(delayed) s")
            print("netem delay 100ms: connect \(before) s without, \(delayed) s with")
        }
    }
}
