import Testing
@testable import Netfault

@Suite("Bench statistics")
struct BenchStatisticsTests {
    @Test("median of odd, even and no values")
    func median() {
        #expect(BenchStatistics.median([3, 1, 2]) == 2)
        #expect(BenchStatistics.median([4, 1, 3, 2]) == 2.5)
        #expect(BenchStatistics.median([]) == 0)
    }

    @Test("each round runs every side once, in an order of its own, the same from run to run")
    func roundOrders() {
        let sides = ["clean", "SYN/RST", "SYN/FIN/RST", "bpf", "nfqueue"]
        let orders = BenchStatistics.roundOrders(sides, rounds: 40)
        #expect(orders.count == 40)
        #expect(orders.allSatisfy { $0.sorted() == sides.sorted() })
        #expect(orders == BenchStatistics.roundOrders(sides, rounds: 40))
        // Over 40 rounds every side runs first, and every side has run right after at least two others:
        // neither a fixed order nor a rotation does the second.
        #expect(Set(orders.map { $0[0] }) == Set(sides))
        for side in sides {
            let predecessors = Set(orders.compactMap { order in order.firstIndex(of: side).flatMap { $0 > 0 ? order[$0 - 1] : nil } })
            #expect(predecessors.count >= 2, "\(side) always follows \(predecessors)")
        }
        #expect(BenchStatistics.roundOrders(sides, rounds: 0).isEmpty)
    }

    @Test("a ratio of constant samples has no spread")
    func constantSamples() throws {
        let interval = try #require(BenchStatistics.ratioInterval([90, 90, 90], over: [100, 100, 100]))
        #expect(abs(interval.lowerBound - 0.9) < 1e-12 && abs(interval.upperBound - 0.9) < 1e-12)
    }

    // Rounds as this machine gives them: bimodal, ±25 % (bench faults, 2026-12-07, clean and SYN/FIN/RST rules).
    static let clean: [Double] = [3422, 5244, 5060, 3188, 4956, 3697, 4580, 5748, 5266]
    static let control: [Double] = [4741, 4703, 4398, 4814, 3483, 4453, 4341, 3200, 4485]

    @Test("the interval holds the ratio of medians and is as wide as the rounds' spread makes it")
    func noisySamples() throws {
        let interval = try #require(BenchStatistics.ratioInterval(Self.control, over: Self.clean))
        let point = BenchStatistics.median(Self.control) / BenchStatistics.median(Self.clean)
        #expect(interval.contains(point))
        // 9 rounds spread ±25 % cannot pin a ratio to a few percent: the interval spans more than 0.1.
        #expect(interval.upperBound - interval.lowerBound > 0.1)
        // And a target of 0.97 inside it is unresolved, not met.
        #expect(BenchStatistics.verdict(interval, atLeast: 0.97) == .unresolved)
    }

    @Test("the same rounds give the same interval")
    func seeded() {
        #expect(BenchStatistics.ratioInterval(Self.control, over: Self.clean)
                == BenchStatistics.ratioInterval(Self.control, over: Self.clean))
    }

    @Test("more rounds narrow the interval")
    func moreRounds() throws {
        let few = try #require(BenchStatistics.ratioInterval(Self.control, over: Self.clean))
        let many = try #require(BenchStatistics.ratioInterval(Array(repeating: Self.control, count: 4).flatMap { $0 },
                                                              over: Array(repeating: Self.clean, count: 4).flatMap { $0 }))
        #expect(many.upperBound - many.lowerBound < few.upperBound - few.lowerBound)
    }

    @Test("verdicts: the whole interval must clear the target")
    func verdicts() {
        #expect(BenchStatistics.verdict(0.98...1.02, atLeast: 0.97) == .met)
        #expect(BenchStatistics.verdict(0.90...0.96, atLeast: 0.97) == .notMet)
        #expect(BenchStatistics.verdict(0.95...1.01, atLeast: 0.97) == .unresolved)
        #expect(BenchStatistics.verdict(2...8, atMost: 10) == .met)
        #expect(BenchStatistics.verdict(11...15, atMost: 10) == .notMet)
        #expect(BenchStatistics.verdict(8...12, atMost: 10) == .unresolved)
    }

    @Test("no interval without rounds")
    func empty() {
        #expect(BenchStatistics.ratioInterval([], over: [1]) == nil)
        #expect(BenchStatistics.ratioInterval([1], over: []) == nil)
        #expect(BenchStatistics.ratioInterval([1], over: [0]) == nil)
    }
}
