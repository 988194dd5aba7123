import Foundation
import Testing
@testable import Netfault
import NetfaultKernel

/// Faults run by the tc engine for real (`--fault-backend bpf`), in namespaces of the test's
/// own; afterwards none of its programs or maps is left, after a normal end and after SIGKILL.
/// Another process loading BPF programs at the same moment (another helper's tests) can make
/// a leak check see ids that are not this run's: rerun then.
@Suite("Faults in the kernel", .serialized, .enabled(if: RootOnly.isRoot, RootOnly.reason),
       .enabled(if: FaultBackends.current.tcBPF, "this kernel cannot attach tc BPF programs (see `netfault doctor`)"))
struct KernelFaultRunTests {
    /// FaultRunTests' client–server transfer, on a subnet of its own, the client given 15 s.
    static func scenario(_ id: String, serverReads bytes: Int = 3000, client: [PeerStep],
                         @ScenarioBuilder _ body: () -> [ScenarioElement]) -> Scenario {
        FaultRunTests.scenario(id, serverReads: bytes, client: client, subnet: "10.77.98.0/24", clientTimeout: 15, body)
    }

    /// BPF program and map ids that exist now.
    static func ids() -> Set<String> {
        let loaded = TCFaultEngine.loadedIDs()
        return Set(loaded.programs.map { "prog \($0)" } + loaded.maps.map { "map \($0)" })
    }

    /// Runs `scenario` on the tc engine while a thread notes every BPF id that appears.
    static func runWatchingIDs(_ scenario: Scenario) throws -> (result: ScenarioResult, appeared: Set<String>) {
        let before = ids()
        let watch = Watch()
        let watcher = Thread {
            while watch.lock.withLock({ watch.running }) {
                let now = ids().subtracting(before)
                watch.lock.withLock { watch.appeared.formUnion(now) }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        watcher.start()
        try ScenarioRunner.check(scenario, faultBackend: .bpf)
        // No kernel events: their programs, loaded once per process, would count as new ids.
        let result = ScenarioRunner.run(scenario, options: RunOptions(events: false, faultBackend: .bpf))
        watch.lock.withLock { watch.running = false }
        Thread.sleep(forTimeInterval: 0.1)
        return (result, watch.lock.withLock { watch.appeared })
    }

    /// What the watcher thread shares with the test, under its lock.
    final class Watch: @unchecked Sendable {
        let lock = NSLock()
        var appeared = Set<String>()
        var running = true
    }

    @Test("a drop decided in the kernel is reported at the kernel's instant; its programs and maps go with the run")
    func dropLeavesNothing() throws {
        let scenario = Self.scenario("kdrop", client: [.write(bytes: 3000)]) {
            Drop(.syn, at: .link(from: "client", to: "server"), .nth(1), name: "first SYN")
            // The SYN goes again after the initial RTO (1 s; late by the timer wheel, never early).
            Expect.peer("client", succeeds: "connect", tookAtLeast: 1.0, tookAtMost: 1.3)
            Expect.fault("first SYN", acted: .equals(1))
        }
        let (result, appeared) = try Self.runWatchingIDs(scenario)
        #expect(result.status == .passed, "\(result.failureSummary)")
        #expect(result.faults == [FaultPlan.Summary(description: "first SYN", backend: "bpf")])
        #expect(result.faultDecisions.map(\.action) == ["dropped"])
        #expect(result.faultDecisions.allSatisfy { $0.decidedInKernel })
        #expect(appeared.contains { $0.hasPrefix("prog ") } && appeared.contains { $0.hasPrefix("map ") },
                "the engine's programs and maps were seen while it ran")
        // Namespaces finish going asynchronously: wait a little for the kernel to free them.
        var left = appeared.intersection(Self.ids())
        for _ in 0..<20 where !left.isEmpty {
            Thread.sleep(forTimeInterval: 0.1)
            left = appeared.intersection(Self.ids())
        }
        #expect(left.isEmpty, "left behind: \(left.sorted())")
    }

    @Test("TCP builds one-segment skbs on a link where a kernel fault touches data")
    func bulkDataIsSeenSegmentBySegment() throws {
        let scenario = Self.scenario("kgso", serverReads: 2_000_000, client: [.write(bytes: 2_000_000)]) {
            Duplicate(.data, at: .link(from: "client", to: "server"), .everyNth(50), name: "every 50th")
        }
        let (result, _) = try Self.runWatchingIDs(scenario)
        #expect(result.status == .passed, "\(result.failureSummary)")
        let decisions = result.faultDecisions.filter { $0.fault == "every 50th" }
        // 2 MB in segments of at most 1448 bytes is ≥ 1381 segments: ≥ 27 duplicated.
        #expect(decisions.count >= 27)
        // The decision's length is the skb's whole payload: a GSO skb would show many segments' worth.
        #expect(decisions.allSatisfy { $0.length <= 1448 }, "\(decisions.map(\.length).max() ?? 0) bytes in one decision")
    }

    @Test("a FIN on a GSO packet, dropped: the packet detours through the host's own veth pair, and only its last segment is lost")
    func finOnAGSOPacketTakesTheDetour() throws {
        let bytes = 300_000
        let scenario = Scenario("kfin-gso", "FIN on a GSO packet", timeLimit: 20) {
            Host("client")
            Host("server")
            Link("client", "server", subnet: "10.77.96.0/24")
            Drop(.fin, at: .link(from: "client", to: "server"), .nth(1), name: "first FIN")
            // The server waits before reading: the client's last data is still queued when it
            // closes, so the FIN joins the queue's last skb.
            Peer("server", on: "server", .listen(port: 8080), .accept, .sleep(0.3), .readToEnd, .close)
            WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
            Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: bytes, writes: 5), .close)
            WaitFor(exitOf: "server", timeout: 10)
            Expect.fault("first FIN", acted: .equals(1))
            Expect.counter("TcpRetransSegs", on: "client", .atLeast(1))
        }
        try ScenarioRunner.check(scenario, faultBackend: .bpf)
        // That skb is whatever TCP's cutting of the queue left last: more than one segment (a GSO
        // packet) in 4 runs of 6 here, one segment (no detour) in the others. Up to 8 runs, for one
        // with the FIN on a GSO packet.
        for _ in 0..<8 {
            let result = try ProgramCost.counting {
                ScenarioRunner.run(scenario, options: RunOptions(events: false, faultBackend: .bpf))
            }
            #expect(result.status == .passed, "\(result.failureSummary)")
            let read = result.processes.first { $0.name == "server" }?.events.filter { $0.call == "read" }
                .reduce(Int64(0)) { $0 + max($1.result, 0) }
            #expect(read == Int64(bytes), "the server read \(read ?? -1) of \(bytes) bytes")
            // Only a detoured packet's segments reach fault_detour (the pair has no IPv6 of its own).
            let runs = Dictionary(result.faultPrograms.map { ($0.program, $0.runs) }, uniquingKeysWith: +)
            guard let detoured = runs["fault_detour"], detoured > 0 else { continue }
            #expect(detoured >= 2, "a GSO packet's segments, one by one: \(runs)")
            // Nothing ran on the transfer's segments at the server.
            #expect((runs["fault_peer"] ?? 0) == 0, "\(runs)")
            // Dropped before leaving the host: the timeline shows it at the kernel's instant, not at the link's end.
            let fin = result.faultDecisions.filter { $0.fault == "first FIN" }
            #expect(fin.count == 1 && fin.allSatisfy { !$0.atLinkEnd && $0.decidedInKernel && $0.flags.contains("F") }, "\(fin)")
            return
        }
        Issue.record("in 8 runs the FIN never left on a GSO packet")
    }

    @Test("after SIGKILL and `netfault cleanup`, none of the run's programs and maps is left")
    func killedRunLeavesNothing() throws {
        let binary = try #require(Self.netfault, "the netfault binary is built next to the tests")
        let before = Self.ids()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["run", "H2", "--fault-backend", "bpf", "--no-events"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var appeared = Set<String>()
        // H2 drops SYNs for ~20 s: the engine is attached within seconds (a minute in an emulated guest).
        for _ in 0..<600 where !appeared.contains(where: { $0.hasPrefix("prog ") }) {
            Thread.sleep(forTimeInterval: 0.1)
            appeared = Self.ids().subtracting(before)
        }
        Thread.sleep(forTimeInterval: 0.5)
        appeared = Self.ids().subtracting(before)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationStatus == SIGKILL)
        #expect(appeared.contains { $0.hasPrefix("prog ") }, "the run's engine was seen before the kill")
        let cleanup = Process()
        cleanup.executableURL = binary
        cleanup.arguments = ["cleanup"]
        cleanup.standardOutput = FileHandle.nullDevice
        try cleanup.run()
        cleanup.waitUntilExit()
        #expect(cleanup.terminationStatus == 0)
        var left = appeared.intersection(Self.ids())
        for _ in 0..<30 where !left.isEmpty {
            Thread.sleep(forTimeInterval: 0.1)
            left = appeared.intersection(Self.ids())
        }
        #expect(left.isEmpty, "left behind: \(left.sorted())")
    }

    /// .build/…/debug/netfault, next to the test bundle.
    static var netfault: URL? {
        for path in [Bundle.main.executablePath, CommandLine.arguments.first].compactMap({ $0 }) {
            var directory = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent("netfault")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }
}
