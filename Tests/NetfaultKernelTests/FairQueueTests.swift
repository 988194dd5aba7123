import Foundation
import Glibc
import Testing
@testable import NetfaultKernel

/// The fq request the in-kernel fault engine sends, and the veths it makes with one-segment skbs.
@Suite struct FairQueueTests {
    @Test func horizonKeepsAMarginAboveTheLongestHold() {
        #expect(FQOptions.holding(0.3).horizonMicroseconds == 1_300_000)
        #expect(FQOptions.holding(FQOptions.longestHold).horizonMicroseconds == UInt32.max)
        #expect(FQOptions.holding(0.3).tcArguments == "limit 262144 flow_limit 65536 horizon 1300000us nopacing")
    }

    @Test func requestCarriesTheOptionsTcWouldSend() {
        let message = Rtnetlink.newFQ(interfaceIndex: 10, interface: "x", options: FQOptions(horizonMicroseconds: 2_000_000))
        #expect(message.operation == "tc qdisc add dev x root handle 1: fq limit 262144 flow_limit 65536 horizon 2000000us nopacing")
        // TCA_OPTIONS decodes back to the same options (the kernel's dump has the same layout).
        let bytes = message.bytes
        // nlmsghdr (16 bytes), struct tcmsg (20), then TCA_KIND (1) and TCA_OPTIONS (2).
        let attributes = try! NetlinkDecoder.attributes(bytes[(16 + 20)...])
        #expect(attributes[1].map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } == "fq")
        let options = try! FQOptions(kernelOptions: #require(attributes[2]))
        #expect(options == FQOptions(horizonMicroseconds: 2_000_000))
    }
}

/// fq and gso_max_segs for real. fq needs a kernel with sch_fq (not this machine's 6.18):
/// `scripts/in-vm 6.1 -- .build/debug/netfaultPackageTests.xctest --testing-library swift-testing --filter FairQueueKernelTests`.
@Suite(.serialized, .enabled(if: KT.canManageNetworks, KT.needsRoot))
struct FairQueueKernelTests {
    static var fqPresent: Bool { KernelProbesTests.run.results.contains { $0.name == KernelProbes.Name.fq && $0.present } }

    static func namespaceWithVeth(gsoMaxSegments: UInt32?) throws -> NetworkNamespace {
        let ns = try NetworkNamespace(name: "nfkt-fq")
        try ns.rtnetlink().perform([
            Rtnetlink.newVeth(name: "nfq-a", index: 10, peer: "nfq-b", peerIndex: 11, peerNamespaceFD: ns.fd, mtu: nil,
                              gsoMaxSegments: gsoMaxSegments),
            Rtnetlink.setUp(index: 10, name: "nfq-a"), Rtnetlink.setUp(index: 11, name: "nfq-b"),
        ])
        return ns
    }

    @Test(.enabled(if: fqPresent, "the running kernel has no sch_fq (see `netfault doctor`)"))
    func theKernelStoresTheHorizonAndLimits() throws {
        try KT.leavesNoTrace {
            let ns = try Self.namespaceWithVeth(gsoMaxSegments: 1)
            let options = FQOptions.holding(2.5)
            try ns.rtnetlink().perform([Rtnetlink.newFQ(interfaceIndex: 10, interface: "nfq-a", options: options)])
            let qdisc = try #require(try ns.rtnetlink().dump(Rtnetlink.dumpQdiscs()).map(Rtnetlink.qdisc)
                .first { $0.interfaceIndex == 10 && $0.isRoot })
            #expect(qdisc.kind == "fq" && qdisc.handle == 0x1_0000)
            #expect(try FQOptions(kernelOptions: #require(qdisc.options)) == options)
            // A second root qdisc on the device is refused: why fq and netem cannot share one.
            #expect(throws: KernelError.self) {
                try ns.rtnetlink().perform([Rtnetlink.newFQ(interfaceIndex: 10, interface: "nfq-a", options: options)])
            }
        }
    }

    @Test func bothEndsTakeOneSegmentSkbsAtCreation() throws {
        try KT.leavesNoTrace {
            let single = try Self.namespaceWithVeth(gsoMaxSegments: 1)
            let links = try single.rtnetlink().dump(Rtnetlink.dumpLinks()).map(Rtnetlink.gsoMaxSegments)
            #expect(links.filter { $0.index == 10 || $0.index == 11 }.map(\.segments) == [1, 1])
            let plain = try Self.namespaceWithVeth(gsoMaxSegments: nil)
            let defaults = try plain.rtnetlink().dump(Rtnetlink.dumpLinks()).map(Rtnetlink.gsoMaxSegments)
            #expect(defaults.filter { $0.index == 10 }.allSatisfy { ($0.segments ?? 0) > 1 }, "the default is 65535")
        }
    }
}
