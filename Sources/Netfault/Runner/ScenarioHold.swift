import Foundation
import NetfaultKernel

/// `netfault up`: the scenario's network with its servers (peers that listen)
/// running, pinned so people can attach with `ip netns exec`, until `stop` fires.
public enum ScenarioHold {
    /// Builds, starts the servers, calls `ready` with each host's pin name, then
    /// waits for `stop` to be signalled, and tears everything down.
    public static func hold(_ scenario: Scenario, runID: String, stop: DispatchSemaphore,
                            ready: ([(host: String, pin: String)], [String]) -> Void) throws {
        let plan = NetworkPlan(scenario)
        let prefix = "nf-\(runID)-\(scenario.id.lowercased())-"
        let network = try Network(plan: plan, pinPrefix: prefix)
        defer { network.tearDown() }
        let t0 = MonotonicClock.now()
        var servers: [ChildProcess] = []
        defer { servers.forEach { $0.terminate() } }
        var started: [String] = []
        for case .peer(let peer) in scenario.steps where peer.steps.contains(where: { if case .listen = $0 { true } else { false } }) {
            let words = try PeerWords.words(for: peer.steps, plan: plan)
            servers.append(try ChildProcess(.peer(try PeerScript(words)), in: network.namespace(peer.host)!,
                                            environment: [:], t0: t0))
            started.append("\(peer.name) on \(peer.host): netfault peer \(words.joined(separator: " "))")
        }
        ready(plan.hosts.map { ($0.name, prefix + $0.name) }, started)
        stop.wait()
    }
}
