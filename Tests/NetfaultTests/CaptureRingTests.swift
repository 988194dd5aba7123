import NetfaultScenarios
import Testing
@testable import Netfault

@Suite struct CaptureRingTests {
    private func scenario(_ steps: PeerStep...) -> Scenario {
        Scenario("T", "t") {
            Host("a")
            Host("b")
            Link("a", "b", subnet: "10.77.99.0/24")
            Peer("p", on: "a", steps: steps)
        }
    }

    @Test func aHandshakeAndALittleDataGetTheSmallestRing() {
        #expect(CaptureRing.bytes(for: scenario(.connect(to: "b", port: 1), .write(bytes: 100), .close))
                == CaptureRing.minimumBytes)
    }

    /// 40 MB is ~80,000 segments and as many ACKs: more than the largest ring holds.
    @Test func bulkDataGetsTheLargestRing() {
        #expect(CaptureRing.bytes(for: scenario(.write(bytes: 40_000_000))) == CaptureRing.maximumBytes)
    }

    /// 2 MB: 2 × (1000 + 2 × 4001) frames of 256 bytes, rounded up to whole 256 KiB blocks.
    @Test func inBetweenTheRingFollowsTheDataInWholeBlocks() {
        let bytes = CaptureRing.bytes(for: scenario(.write(bytes: 2_000_000)))
        #expect(bytes == 18 * (256 << 10))
        #expect(bytes > CaptureRing.minimumBytes && bytes < CaptureRing.maximumBytes)
    }

    @Test func repeatsMultiplyTheirSteps() {
        #expect(CaptureRing.bytes(for: scenario(.repeat(4, [.write(bytes: 1_000_000)])))
                == CaptureRing.bytes(for: scenario(.write(bytes: 4_000_000, writes: 4))))
        // 100 datagrams of 60,000 bytes: 2 × (1000 + 100 × 2 × 121) frames, 50 blocks.
        #expect(CaptureRing.bytes(for: scenario(.repeat(100, [.sendDatagram(to: "b", port: 1, bytes: 60_000)])))
                == 50 * (256 << 10))
    }

    /// A command's traffic is unknown, so its scenario keeps the largest ring.
    @Test func aCommandGetsTheLargestRing() {
        let withCommand = Scenario("T", "t") {
            Host("a")
            Command("sleep", on: "a", ["sleep", "0"])
        }
        #expect(CaptureRing.bytes(for: withCommand) == CaptureRing.maximumBytes)
    }

    /// What made the catalog's runs stall: every scenario of it now gets the smallest ring.
    @Test func everyCatalogScenarioGetsTheSmallestRing() {
        for scenario in Catalog.all {
            #expect(CaptureRing.bytes(for: scenario) == CaptureRing.minimumBytes, "\(scenario.id)")
        }
    }
}
