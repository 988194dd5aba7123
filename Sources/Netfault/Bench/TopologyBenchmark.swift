import Foundation
import NetfaultKernel

/// `netfault bench topology`: build and tear down N host pairs (2 namespaces,
/// one veth, addresses, links up) in process, timed against the same work done
/// by scripts/bench-topology-ip.sh with `ip -n NS -batch -`, side by side.
public enum TopologyBenchmark {
    /// What `netfault bench topology --json` writes.
    public struct Measurement: Codable, Sendable {
        /// Host pairs built per round.
        public var pairs: Int
        /// Rounds, alternating with the ip script.
        public var rounds: Int
        /// Median milliseconds to build one pair, in process.
        public var setupMsPerPair: Double
        /// Median milliseconds to tear one pair down, in process.
        public var teardownMsPerPair: Double
        /// The ip script's figures from the same rounds, when it ran.
        public var ipBatchSetupMsPerPair: Double?
        /// The ip script's teardown figure from the same rounds.
        public var ipBatchTeardownMsPerPair: Double?
        /// setupMsPerPair / ipBatchSetupMsPerPair (target ≤ 0.25).
        public var setupRatioToIPBatch: Double?
        /// `uname -r`.
        public var kernel: String
    }

    /// The plan for N pairs: hosts a0/b0 … on 10.77.(128 + i / 64).(i % 64 × 4)/30.
    public static func plan(pairs: Int) -> NetworkPlan {
        let scenario = Scenario("bench", "topology benchmark") {
            for index in 0..<pairs {
                Host("a\(index)")
                Host("b\(index)")
                Link("a\(index)", "b\(index)", subnet: "10.77.\(128 + index / 64).\(index % 64 * 4)/30")
            }
        }
        return NetworkPlan(scenario)
    }

    /// One round of ours: milliseconds per pair for setup and teardown.
    public static func measureOnce(pairs: Int) throws -> (setup: Double, teardown: Double) {
        let plan = plan(pairs: pairs)
        let start = MonotonicClock.now()
        let network = try Network(plan: plan, loopback: false, disableOffloads: false)
        let built = MonotonicClock.now()
        network.tearDown()
        let gone = MonotonicClock.now()
        return (Double(built - start) / 1e6 / Double(pairs), Double(gone - built) / 1e6 / Double(pairs))
    }

    /// Runs the ip script for the same pairs; nil when it cannot run (no `ip`).
    public static func measureIPBatch(pairs: Int, script: String) -> (setup: Double, teardown: Double)? {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, "\(pairs)", "nfbench\(ProcessInfo.processInfo.processIdentifier)-"]
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Double],
              let setup = object["setupMsPerPair"], let teardown = object["teardownMsPerPair"] else { return nil }
        return (setup, teardown)
    }

    /// Alternates ours and the script's rounds so machine noise hits both alike; medians.
    public static func run(pairs: Int, rounds: Int, script: String?) throws -> Measurement {
        var ours: [(Double, Double)] = []
        var theirs: [(Double, Double)] = []
        for _ in 0..<rounds {
            ours.append(try measureOnce(pairs: pairs))
            if let script, let measured = measureIPBatch(pairs: pairs, script: script) { theirs.append(measured) }
        }
        let median = BenchStatistics.median
        let setup = median(ours.map(\.0)), teardown = median(ours.map(\.1))
        let ipSetup = theirs.isEmpty ? nil : median(theirs.map(\.0))
        return Measurement(pairs: pairs, rounds: rounds, setupMsPerPair: setup, teardownMsPerPair: teardown,
                           ipBatchSetupMsPerPair: ipSetup,
                           ipBatchTeardownMsPerPair: theirs.isEmpty ? nil : median(theirs.map(\.1)),
                           setupRatioToIPBatch: ipSetup.map { setup / $0 }, kernel: MachineInfo.kernelRelease)
    }
}
