import Foundation
import NetfaultKernel

/// One scenario run once per value of one sysctl, the runs side by side: `netfault sweep`.
///
/// ```swift
/// let sweep = Sweep(Catalog.lostSyn, host: "client", sysctl: "net.ipv4.tcp_syn_retries", values: [1, 2, 3])
/// let result = try await sweep.run()
/// for point in result.points { print(point.value, point.result.status) }
/// ```
public struct Sweep: Sendable {
    /// The scenario swept.
    public let scenario: Scenario
    /// A host of the scenario, or `*` for every host.
    public let host: String
    /// The sysctl that varies.
    public let sysctl: String
    /// One point per value: each the scenario, tuned with `fixed`, then this value.
    public let values: [SysctlOverride]
    /// Overrides every point shares (under the swept one).
    public let fixed: [SysctlOverride]
    /// This machine's per-namespace sysctls to start from (`--host-sysctls`), if any.
    public let hostSysctls: [HostSysctl]

    /// A sweep of `scenario` over `values` of `sysctl` on `host`.
    public init(_ scenario: Scenario, host: String, sysctl: String, values: [some CustomStringConvertible & Sendable],
                fixed: [SysctlOverride] = [], hostSysctls: [HostSysctl] = [], file: String = #filePath, line: Int = #line) {
        self.init(scenario, values: values.map {
            SysctlOverride(host: host, name: sysctl, value: $0.description, location: SourceLocation(file: file, line: line))
        }, fixed: fixed, hostSysctls: hostSysctls)
    }

    /// From the command line: `SysctlAssignment.overrides`, one per value, all of one sysctl.
    public init(_ scenario: Scenario, values: [SysctlOverride], fixed: [SysctlOverride] = [], hostSysctls: [HostSysctl] = []) {
        precondition(!values.isEmpty && Set(values.map { "\($0.host):\($0.name)" }).count == 1,
                     "a sweep varies one sysctl")
        self.scenario = scenario
        self.host = values[0].host
        self.sysctl = values[0].name
        self.values = values
        self.fixed = fixed
        self.hostSysctls = hostSysctls
    }

    /// The scenario as each point runs it.
    public var points: [Scenario] {
        values.map { scenario.tuned(overrides: fixed + [$0], hostSysctls: hostSysctls) }
    }

    /// Every point validated and its sysctls tried in a scratch namespace, before anything
    /// runs: throws `InvalidScenario` naming each value the kernel rejects (exit 2), or
    /// `EnvironmentError` (exit 3).
    public func check() throws {
        var errors: [ScenarioError] = []
        for point in points {
            do {
                try ScenarioRunner.check(point)
            } catch let invalid as InvalidScenario {
                errors += invalid.errors.filter { !errors.contains($0) }
            }
        }
        if !errors.isEmpty { throw InvalidScenario(scenarioID: scenario.id, errors: errors) }
    }

    /// Runs checked points, up to `parallel` at once (each in namespaces of its own, so they
    /// do not disturb each other; most of a point's time is spent waiting on timers).
    /// Blocks the calling thread. `options.pin` and `pcapDirectory` are not used.
    public func runChecked(options: RunOptions = RunOptions(), parallel: Int = 4,
                           progress: (@Sendable (CatalogRunner.Progress) -> Void)? = nil) -> SweepResult {
        // Every point has the scenario's id, so per-scenario pins and pcap folders would collide.
        var options = options
        options.pin = false
        options.pcapDirectory = nil
        let run = CatalogRunner.run(points, options: options, parallel: parallel, progress: progress)
        return SweepResult(kernel: run.kernel, startedAt: run.startedAt, scenario: scenario.id, name: scenario.name,
                           host: host, sysctl: sysctl, fixed: fixed.map { "\($0.host):\($0.name)=\($0.value)" },
                           points: zip(values, run.scenarios).map { SweepResult.Point(value: $0.value, result: $1) })
    }

    /// Checks, then runs every point; see `check()` and `runChecked`.
    public func run(options: RunOptions = RunOptions(), parallel: Int = 4) async throws -> SweepResult {
        try check()
        return await withCheckedContinuation { continuation in
            // Points block on waits and sleeps by design: a thread of their own, not the pool.
            Thread.detachNewThread {
                continuation.resume(returning: runChecked(options: options, parallel: parallel))
            }
        }
    }
}

/// What `netfault sweep --json` writes: per value, the scenario's whole result.
public struct SweepResult: Codable, Sendable, Equatable {
    /// One value's run.
    public struct Point: Codable, Sendable, Equatable {
        /// The value, as written.
        public var value: String
        /// The scenario's whole result with it.
        public var result: ScenarioResult

        /// The run with `value`.
        public init(value: String, result: ScenarioResult) {
            self.value = value
            self.result = result
        }
    }

    /// `uname -r` of the kernel the points ran on.
    public var kernel: String
    /// ISO 8601, UTC.
    public var startedAt: String
    /// The scenario's ID.
    public var scenario: String
    /// The scenario's name.
    public var name: String
    /// The host the sysctl was set on, or `*`.
    public var host: String
    /// The sysctl that varied.
    public var sysctl: String
    /// Overrides every point shared: "HOST:NAME=VALUE".
    public var fixed: [String]
    /// One run per value, in the order given.
    public var points: [Point]

    /// A sweep's result.
    public init(kernel: String, startedAt: String, scenario: String, name: String, host: String, sysctl: String,
                fixed: [String] = [], points: [Point]) {
        self.kernel = kernel
        self.startedAt = startedAt
        self.scenario = scenario
        self.name = name
        self.host = host
        self.sysctl = sysctl
        self.fixed = fixed
        self.points = points
    }

    /// The expectations, as the points list them (every point runs the same ones).
    public var expectations: [(description: String, location: String)] {
        guard let first = points.first(where: { !$0.result.expectations.isEmpty }) else { return [] }
        return first.result.expectations.map { ($0.description, $0.location) }
    }

    /// One line per numeric observation: expectation index, value name, unit, and per point
    /// the number (nil where that point did not observe it). What the HTML page plots.
    public struct Series: Sendable, Equatable {
        /// The expectation's index in the scenario, from 0.
        public var expectation: Int
        /// The observed value's name ("gives up").
        public var name: String
        /// Its unit ("s"), if any.
        public var unit: String?
        /// Its value at each point; nil where not observed.
        public var values: [Double?]
    }

    /// Each numeric observation across the values, in expectation order.
    public var series: [Series] {
        var result: [Series] = []
        for index in expectations.indices {
            var names: [(String, String?)] = []
            for point in points where index < point.result.expectations.count {
                for value in point.result.expectations[index].observedValues where !names.contains(where: { $0.0 == value.name }) {
                    names.append((value.name, value.unit))
                }
            }
            for (name, unit) in names {
                let values = points.map { point in
                    index < point.result.expectations.count
                        ? point.result.expectations[index].observedValues.first { $0.name == name }?.value : nil
                }
                result.append(Series(expectation: index, name: name, unit: unit, values: values))
            }
        }
        return result
    }

    /// "client:net.ipv4.tcp_syn_retries"
    public var parameter: String { "\(host):\(sysctl)" }
}

extension Scenario {
    /// Runs this scenario once per value of one sysctl (with `fixed` overrides on every
    /// run); see `Sweep`. Throws `InvalidScenario` before anything runs if the kernel
    /// rejects a value.
    public func sweep(host: String, sysctl: String, values: [some CustomStringConvertible & Sendable],
                      fixed: [SysctlOverride] = [], parallel: Int = 4, options: RunOptions = RunOptions(),
                      file: String = #filePath, line: Int = #line) async throws -> SweepResult {
        try await Sweep(self, host: host, sysctl: sysctl, values: values, fixed: fixed, file: file, line: line)
            .run(options: options, parallel: parallel)
    }

    /// Checks and runs this scenario with sysctls set from outside it (see `tuned`).
    public func run(sysctls: [SysctlOverride], hostSysctls: [HostSysctl] = [], options: RunOptions = RunOptions()) async throws -> ScenarioResult {
        try await tuned(overrides: sysctls, hostSysctls: hostSysctls).run(options: options)
    }
}
