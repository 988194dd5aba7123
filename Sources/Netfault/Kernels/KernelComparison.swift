import NetfaultKernel

/// What changed between kernels, computed from their runs: each expectation of a claim's
/// scenario that passed on one kernel and not on another, whose sockets went through other
/// states, whose calls failed with other errnos, whose counts differ, or whose timer readings
/// differ between two kernels by more than the expectation's tolerance allows two readings of
/// one behaviour to differ. Instants without a tolerance are not changes. Runs are compared
/// in the order given, each with the next (oldest kernel first reads as "what changed on the
/// way up").
public enum KernelComparison {
    /// One kernel's reading of an expectation.
    public struct Reading: Codable, Sendable, Equatable {
        /// The kernel's `uname -r`.
        public var kernel: String
        /// "passed", "failed"; for the scenario as a whole also "stopped" (it failed with an error
        /// before its end: a time limit ran out, a wait failed), "skipped" or "absent" (not in that run).
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
                Reading(kernel: run.kernel, outcome: scenario.map(outcome) ?? "absent", observed: scenario?.skipReason ?? scenario?.error ?? "")
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

    /// A scenario that stopped with an error was judged on a recording cut short: its
    /// expectations fail together (17 at once for H9 when its time limit ran out on a starved
    /// guest) and say nothing more than "stopped", so they are not compared, like a skip's.
    static func outcome(_ scenario: ScenarioResult) -> String {
        scenario.status == .failed && scenario.error != nil ? "stopped" : scenario.status.rawValue
    }

    /// Expectations are matched by where the scenario states them (and their order there).
    private static func expectationChanges(_ id: String, _ claim: String, _ runs: [RunResult],
                                           _ scenarios: [ScenarioResult?]) -> [Change] {
        var keys: [String] = []
        for scenario in scenarios.compactMap({ $0 }) where ["passed", "failed"].contains(outcome(scenario)) {
            for key in keyed(scenario.expectations).map(\.key) where !keys.contains(key) { keys.append(key) }
        }
        return keys.compactMap { key in
            // Only kernels that judged the expectation are compared: a skip is a scenario-level
            // change, and an expectation a kernel cannot judge (5.10 names no drop reasons) says
            // nothing about its TCP.
            let judged: [(kernel: String, result: ExpectationResult)] = zip(runs, scenarios).compactMap { run, scenario in
                guard let scenario, ["passed", "failed"].contains(outcome(scenario)),
                      let result = keyed(scenario.expectations).first(where: { $0.key == key })?.result,
                      result.skipReason == nil else { return nil }
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
    /// A change is a different outcome (passed or failed), state sequence, errno or count, or a
    /// timer reading beyond the expectation's tolerance. Instants the expectation gives no
    /// tolerance for ("connect succeeded at 0.208 s", "reached at 0.186 s") are not compared:
    /// they are when something happened in that run, which moves from run to run on one kernel.
    /// Nor are counts an expectation only bounds ("at least 3") while both kernels keep the bound.
    static func difference(_ older: ExpectationResult, _ newer: ExpectationResult) -> String? {
        var apart: [String] = []
        if older.passed != newer.passed {
            apart.append((older.passed ? "passed" : "failed") + " → " + (newer.passed ? "passed" : "failed"))
        }
        let (olderWords, newerWords) = (Words(older.observed), Words(newer.observed))
        if olderWords.states != newerWords.states {
            apart.append("states \(olderWords.statesText) → \(newerWords.statesText)")
        }
        if olderWords.errnos != newerWords.errnos {
            apart.append("errno \(olderWords.errnosText) → \(newerWords.errnosText)")
        }
        let tolerance = newer.tolerance ?? older.tolerance
        // "at least 11", "at most 10": the expectation claims a bound, not a number; a count that
        // moves within it on both kernels (Nagle's coalescing, with the scheduler) is no change.
        let bounded = [older.expected, newer.expected].allSatisfy { $0.hasPrefix("at least ") || $0.hasPrefix("at most ") }
            && older.passed && newer.passed
        var names: [String] = []
        for value in older.observedValues + newer.observedValues where !names.contains(value.name) { names.append(value.name) }
        var timedApart = false
        for name in names {
            let before = older.observedValues.first { $0.name == name }
            let after = newer.observedValues.first { $0.name == name }
            let timed = (before ?? after)?.unit == "s"
            if (timed && tolerance == nil) || (!timed && bounded) { continue }
            if let before, let after, same(before.value, after.value, timed ? tolerance : nil) { continue }
            timedApart = timedApart || (timed && before != nil && after != nil)
            apart.append("\(name) \(text(before)) → \(text(after))")
        }
        guard !apart.isEmpty else { return nil }
        let beyond = timedApart ? tolerance.map { " (beyond \($0))" } ?? "" : ""
        return apart.joined(separator: ", ") + beyond
    }

    /// The words of an observation that name behaviour rather than time: each socket's TCP
    /// states in order (a state seen twice in a row once: a request socket and the full socket
    /// it becomes are both SYN_RECV), and the errnos. Sockets are listed "; "-separated in
    /// ephemeral-port order, which differs from run to run, so their sequences are compared
    /// sorted. Read from the text: results saved before this comparison carry nothing else.
    struct Words: Equatable {
        var states: [[String]]
        var errnos: [String]

        static let stateNames = Set(TCPState.allCases.map(\.rawValue))

        init(_ observed: String) {
            var states: [[String]] = []
            var errnos: Set<String> = []
            for part in observed.components(separatedBy: "; ") {
                var sequence: [String] = []
                let words = part.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init)
                for word in words {
                    if Self.stateNames.contains(word) {
                        if sequence.last != word { sequence.append(word) }
                    } else if Self.isErrno(word) {
                        errnos.insert(word)
                    }
                }
                if !sequence.isEmpty { states.append(sequence) }
            }
            self.states = states.sorted { $0.lexicographicallyPrecedes($1) }
            self.errnos = errnos.sorted()
        }

        /// ETIMEDOUT, ECONNREFUSED, EADDRNOTAVAIL…: E and capitals, not a state (ESTABLISHED).
        static func isErrno(_ word: String) -> Bool {
            word.count >= 4 && word.hasPrefix("E") && !stateNames.contains(word)
                && word.allSatisfy { ($0.isUppercase && $0.isASCII) || $0.isNumber }
        }

        var statesText: String {
            states.isEmpty ? "none" : states.map { $0.joined(separator: ", ") }.joined(separator: "; ")
        }
        var errnosText: String { errnos.isEmpty ? "none" : errnos.joined(separator: ", ") }
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
