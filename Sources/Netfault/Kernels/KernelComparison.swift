/// What changed between kernels, computed from their runs: each expectation of a claim's
/// scenario that passed on one kernel and not on another, or whose observed numbers differ
/// between two kernels by more than the expectation's tolerance allows two readings of one
/// behaviour to differ. Runs are compared in the order given, each with the next (oldest
/// kernel first reads as "what changed on the way up").
public enum KernelComparison {
    /// One kernel's reading of an expectation.
    public struct Reading: Codable, Sendable, Equatable {
        /// The kernel's `uname -r`.
        public var kernel: String
        /// "passed", "failed"; for the scenario as a whole also "skipped" or "absent" (not in that run).
        public var outcome: String
        /// The expectation's observation; for the scenario, its skip reason or error.
        public var observed: String
    }

    /// One expectation (or scenario) that changed between kernels, with each kernel's reading.
    public struct Change: Codable, Sendable, Equatable {
        /// The catalog ID.
        public var id: String
        /// The note's claim.
        public var claim: String
        /// The expectation's description, or "the scenario" when its status changed.
        public var expectation: String
        /// The expectation's file:line.
        public var location: String
        /// Why these readings count as a change: "6.1.0-28-amd64 → 6.18.44: 4 readings → 8".
        public var differences: [String]
        /// Each kernel's reading, in the runs' order.
        public var readings: [Reading]
    }

    /// The changes between consecutive runs (oldest kernel first) of `catalog`'s claims.
    public static func changes(_ runs: [RunResult], catalog: [Scenario]) -> [Change] {
        guard runs.count > 1 else { return [] }
        var changes: [Change] = []
        for definition in catalog {
            guard let claim = definition.claim else { continue }
            let scenarios = runs.map { run in run.scenarios.first { $0.id == definition.id } }
            guard scenarios.contains(where: { $0 != nil }) else { continue }
            let statuses = zip(runs, scenarios).map { run, scenario in
                Reading(kernel: run.kernel, outcome: scenario?.status.rawValue ?? "absent", observed: scenario?.skipReason ?? scenario?.error ?? "")
            }
            if Set(statuses.map(\.outcome)).count > 1 {
                changes.append(Change(id: definition.id, claim: claim, expectation: "the scenario", location: "",
                                      differences: steps(statuses) { $0.outcome == $1.outcome ? nil : "\($0.outcome) → \($1.outcome)" },
                                      readings: statuses))
            }
            changes += expectationChanges(definition.id, claim, runs, scenarios)
        }
        return changes
    }

    /// Expectations are matched by where the scenario states them (and their order there).
    private static func expectationChanges(_ id: String, _ claim: String, _ runs: [RunResult],
                                           _ scenarios: [ScenarioResult?]) -> [Change] {
        var keys: [String] = []
        for scenario in scenarios.compactMap({ $0 }) where scenario.status != .skipped {
            for key in keyed(scenario.expectations).map(\.key) where !keys.contains(key) { keys.append(key) }
        }
        return keys.compactMap { key in
            // Only kernels that judged the expectation are compared: a skip is a scenario-level change.
            let judged: [(kernel: String, result: ExpectationResult)] = zip(runs, scenarios).compactMap { run, scenario in
                guard let scenario, scenario.status != .skipped,
                      let result = keyed(scenario.expectations).first(where: { $0.key == key })?.result else { return nil }
                return (run.kernel, result)
            }
            guard judged.count > 1, let first = judged.first?.result else { return nil }
            let differences = zip(judged, judged.dropFirst()).compactMap { older, newer in
                difference(older.result, newer.result).map { "\(older.kernel) → \(newer.kernel): \($0)" }
            }
            guard !differences.isEmpty else { return nil }
            return Change(id: id, claim: claim, expectation: first.description, location: first.location,
                          differences: differences,
                          readings: judged.map { Reading(kernel: $0.kernel, outcome: $0.result.passed ? "passed" : "failed",
                                                         observed: $0.result.observed) })
        }
    }

    private static func keyed(_ expectations: [ExpectationResult]) -> [(key: String, result: ExpectationResult)] {
        var seen: [String: Int] = [:]
        return expectations.map { expectation in
            let base = expectation.location.isEmpty ? expectation.description : expectation.location
            seen[base, default: 0] += 1
            return ("\(base)#\(seen[base]!)", expectation)
        }
    }

    private static func steps(_ readings: [Reading], _ describe: (Reading, Reading) -> String?) -> [String] {
        zip(readings, readings.dropFirst()).compactMap { older, newer in
            describe(older, newer).map { "\(older.kernel) → \(newer.kernel): \($0)" }
        }
    }

    /// Why two kernels' results of one expectation differ; nil when they show the same behaviour.
    /// Values are matched by name; times ("s") may differ within the expectation's tolerance,
    /// other values (counts, bytes) must be equal.
    static func difference(_ older: ExpectationResult, _ newer: ExpectationResult) -> String? {
        if older.passed != newer.passed {
            return (older.passed ? "passed" : "failed") + " → " + (newer.passed ? "passed" : "failed")
        }
        let tolerance = newer.tolerance ?? older.tolerance
        var names: [String] = []
        for value in older.observedValues + newer.observedValues where !names.contains(value.name) { names.append(value.name) }
        var apart: [String] = []
        var timedApart = false
        for name in names {
            let before = older.observedValues.first { $0.name == name }
            let after = newer.observedValues.first { $0.name == name }
            let timed = (before ?? after)?.unit == "s"
            if let before, let after, same(before.value, after.value, timed ? tolerance : nil) { continue }
            timedApart = timedApart || (timed && before != nil && after != nil)
            apart.append("\(name) \(text(before)) → \(text(after))")
        }
        guard !apart.isEmpty else { return nil }
        let beyond = timedApart ? tolerance.map { " (beyond \($0))" } ?? "" : ""
        return apart.joined(separator: ", ") + beyond
    }

    /// Two readings of one timer due at E may lie anywhere in E's window (early by up to
    /// `early`, late by up to max(lateMinimum, E × lateFraction)), so as far apart as the whole
    /// window; E is at most the earlier reading (plus `early`), which bounds the window. Counts
    /// must be equal.
    static func same(_ a: Double, _ b: Double, _ tolerance: Tolerance?) -> Bool {
        guard let tolerance else { return a == b }
        let due = min(abs(a), abs(b)) + tolerance.early
        let window = tolerance.early + max(tolerance.lateMinimum, due * tolerance.lateFraction)
        return abs(a - b) <= window
    }

    /// "1.007 s", "8", "536 bytes"; "none" where a run has no such value.
    private static func text(_ value: ObservedValue?) -> String {
        guard let value else { return "none" }
        switch value.unit {
        case "s": return Format.instants([value.value])
        case nil: return String(Int64(value.value))
        case let unit?: return "\(Int64(value.value)) \(unit)"
        }
    }
}
