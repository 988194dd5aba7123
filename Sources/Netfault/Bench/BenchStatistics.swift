/// The benchmarks' statistics: medians, and how far a ratio of medians can be trusted.
///
/// On a shared machine one transfer's throughput spreads ±25 % and is bimodal (whether the
/// receiving side's softirq work lands beside the sender or not), so a ratio of two medians
/// over 9 rounds moves by several percent from run to run. A target such as "≥ 0.97 × clean"
/// is only met when the whole confidence interval is above it; when the interval straddles it,
/// the run could not tell.
public enum BenchStatistics {
    /// What a run says about a target.
    public enum Verdict: String, Codable, Sendable {
        /// The whole interval is on the target's side.
        case met
        /// The whole interval is on the other side.
        case notMet = "not met"
        /// The interval straddles the target: more rounds, or a quieter machine, would tell.
        case unresolved
    }

    /// The order each round runs `sides` in: shuffled round by round, seeded (the same every run),
    /// so that no side always runs first, nor always after the same other side. A side's
    /// teardown (namespaces, maps the kernel frees from its workqueues) overlaps the next
    /// transfer, which a fixed or rotating order would always pin on the same successor.
    public static func roundOrders<Side>(_ sides: [Side], rounds: Int) -> [[Side]] {
        var generator = SplitMix64(seed: 0x6E66_726F_756E_6473)
        return (0..<max(rounds, 0)).map { _ in sides.shuffled(using: &generator) }
    }

    /// The median (the mean of the middle two for an even count; 0 for none).
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// A bootstrap confidence interval of median(`values`) / median(`base`): both samples
    /// resampled with replacement, each on its own (rounds of two sides are not pairs: the
    /// noise of one transfer is not the next one's), `resamples` times, and the central
    /// `confidence` of the ratios kept. The generator is seeded, so the same rounds give the
    /// same interval. nil when a sample is empty or a median is 0.
    public static func ratioInterval(_ values: [Double], over base: [Double], confidence: Double = 0.95,
                                     resamples: Int = 2000) -> ClosedRange<Double>? {
        guard !values.isEmpty, !base.isEmpty, median(base) != 0, resamples > 0 else { return nil }
        var generator = SplitMix64(seed: 0x6E66_6265_6E63_6821)
        func resample(_ sample: [Double]) -> [Double] {
            sample.indices.map { _ in sample[Int(generator.next() % UInt64(sample.count))] }
        }
        var ratios: [Double] = []
        ratios.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let denominator = median(resample(base))
            if denominator != 0 { ratios.append(median(resample(values)) / denominator) }
        }
        guard !ratios.isEmpty else { return nil }
        ratios.sort()
        let tail = (1 - confidence) / 2
        let low = ratios[Int((tail * Double(ratios.count - 1)).rounded(.down))]
        let high = ratios[Int(((1 - tail) * Double(ratios.count - 1)).rounded(.up))]
        return low...high
    }

    /// Whether `interval` is at least `floor` (a target such as "≥ 0.97 × clean").
    public static func verdict(_ interval: ClosedRange<Double>, atLeast floor: Double) -> Verdict {
        interval.lowerBound >= floor ? .met : interval.upperBound < floor ? .notMet : .unresolved
    }

    /// Whether `interval` is at most `ceiling` (a target such as "cost ≤ 10 %").
    public static func verdict(_ interval: ClosedRange<Double>, atMost ceiling: Double) -> Verdict {
        interval.upperBound <= ceiling ? .met : interval.lowerBound > ceiling ? .notMet : .unresolved
    }
}
