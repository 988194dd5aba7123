import Foundation
import Testing
@testable import Netfault
import NetfaultKernel

/// Kernel events for real: the event programs attached, a scenario run in the test's own
/// namespaces, and what they announced checked against the capture's own timestamps.
@Suite("Kernel events on this kernel", .serialized, .enabled(if: RootOnly.isRoot, RootOnly.reason))
struct KernelEventRunTests {
    /// No fault anywhere: a queue to the fault engine on the way out would delay the capture's
    /// stamp past the kernel's instant. The router does not forward, so the client's SYNs to
    /// the server leave (and are captured) and are retransmitted; its SYN to the router
    /// itself finds no socket there.
    static let scenario = Scenario("EVT", "kernel events", timeLimit: 10) {
        Host("client")
        Host("router")
        Host("server")
        Link("client", "router", subnet: "10.77.97.0/24")
        Link("router", "server", subnet: "10.77.96.0/24")
        Route("client", to: "10.77.96.0/24", via: "router")
        Peer("unreached", on: "client", .connect(to: "server", port: 8080, timeout: 1.5))
        Peer("refused", on: "client", .connect(to: "10.77.97.2", port: 9))
        WaitFor(exitOf: "unreached", timeout: 5)
        WaitFor(exitOf: "refused", timeout: 2)
        Expect.peer("refused", fails: "connect", with: "ECONNREFUSED")
        Expect.peer("unreached", fails: "connect", with: "ETIMEDOUT")
    }

    /// Capture's stamp minus the departure of the client's retransmitted SYN.
    static func departureLag(in result: ScenarioResult) -> Double? {
        guard let retransmission = result.retransmissions.first(where: { $0.host == "client" && $0.kind == .syn }),
              let captured = result.segments.last(where: { $0.host == "client" && $0.direction == "out" && $0.flags == "S"
                                                            && $0.dst.hasSuffix(":8080") }) else { return nil }
        return captured.time - retransmission.time
    }

    @Test("a sub-millisecond state at its exact instants; a drop's reason; a retransmission within 10 µs of its capture")
    func eventsMatchTheWire() throws {
        if case .failure(let unavailable) = KernelEvents.shared {
            Issue.record("kernel events did not load here: \(unavailable.reason)")
            return
        }
        try ScenarioRunner.check(Self.scenario)
        // A hard interrupt or a stolen vCPU between the device's stamp and the capture's
        // stretches the gap (with libpcap's tap, in 6 runs here: 5.2–6.1 µs four times, then 11.9
        // and 27.1 µs). Such a run is run again (at most twice): it measured the machine, not the stamps.
        var result = ScenarioRunner.run(Self.scenario)
        for _ in 0..<2 where abs(Self.departureLag(in: result) ?? 0) > 10e-6 { result = ScenarioRunner.run(Self.scenario) }
        #expect(result.status == .passed, "\(result.failureSummary)")
        #expect(result.observation == "events+sampling")
        #expect(result.eventsLost == 0)

        // The refused connection lived one round trip, SYN_SENT → CLOSE, between two samples:
        // known from the kernel's events alone, at their instants.

        let refused = try #require(result.sockets.first { $0.host == "client" && $0.remote == "10.77.97.2:9" })
        #expect(refused.transitions.map(\.state) == ["SYN_SENT", "CLOSE"])
        #expect(refused.transitions.allSatisfy { $0.source == "event" })
        let stay = refused.transitions[1].time - refused.transitions[0].time
        #expect(stay > 0 && stay < 0.001, "SYN_SENT lasted \(stay) s")
        // SYN_SENT is entered just before the SYN is built and sent; its capture follows
        // within 1 ms (microseconds idle; 1 ms allows the sending CPU an interrupt in between).
        let refusedSyn = try #require(result.segments.first { $0.host == "client" && $0.direction == "out" && $0.dst == "10.77.97.2:9" })
        #expect(refusedSyn.time >= refused.transitions[0].time && refusedSyn.time - refused.transitions[0].time < 0.001,
                "SYN_SENT at \(refused.transitions[0].time), SYN captured at \(refusedSyn.time)")

        // The router's kernel dropped that SYN for NO_SOCKET (by name, from this kernel's BTF)
        // and answered with RST; the client's socket, not yet synchronized, takes it without
        // tcp_receive_reset (that tracepoint is for synchronized states).
        #expect(result.kernelDrops.contains { $0.host == "router" && $0.reason == "NO_SOCKET" && $0.segment.to == "10.77.97.2:9"
                                               && $0.segment.flags == "SYN" }, "\(result.kernelDrops)")
        // tcp_send_reset fires for a reset sent without a socket since 6.10 (with its reason).
        if case .success(let events) = KernelEvents.shared, !events.resetReasons.isEmpty {
            #expect(result.resets.contains { $0.host == "router" && $0.direction == .sent && $0.local == "10.77.97.2:9" }, "\(result.resets)")
        }

        // The SYN to the server, retransmitted at 1 s: the kernel's instant and the capture's
        // stamp of the same segment leaving the client.
        let retransmission = try #require(result.retransmissions.first { $0.host == "client" && $0.kind == .syn })
        let captured = result.segments.filter { $0.host == "client" && $0.direction == "out" && $0.flags == "S" && $0.dst.hasSuffix(":8080") }
        #expect(captured.count == 2)
        let capturedRetransmission = try #require(captured.last)
        #expect(retransmission.timeSource == .departure, "no departure matched: \(retransmission)")
        let lag = capturedRetransmission.time - retransmission.time
        if result.capture == "bpf" {
            // The BPF capture stamps a segment at net_dev_start_xmit, which follows net_dev_queue
            // (the kernel's instant) by the qdisc (noqueue here: sub-µs); an interrupt in between
            // stretches that (rerun above past 10 µs). Where the kernel refuses the departure
            // program (`captureNote` says so) the stamp is tc egress's, just before net_dev_queue:
            // 10 µs early at most, as late otherwise.
            let bound = result.captureNote == nil ? -1e-6 : -10e-6
            #expect(bound <= lag && lag <= 10e-6, "departed at \(retransmission.time), captured at \(capturedRetransmission.time)")
        } else {
            // libpcap stamps at the tap (dev_queue_xmit_nit), after net_dev_queue: measured on this
            // 2-CPU machine loaded by VMs (load average 6), 6 runs, 3.5–8.2 µs after the departure.
            // It never precedes it but by the 2 µs of mapping its CLOCK_REALTIME onto
            // CLOCK_MONOTONIC (read once, bracketed by two readings).
            #expect(-2e-6 <= lag && lag <= 10e-6, "departed at \(retransmission.time), captured at \(capturedRetransmission.time)")
        }
        // TCP stamped this transmission before it left, and the tracepoint fired after.
        let earliest = try #require(retransmission.earliest)
        #expect(earliest <= retransmission.time && retransmission.time <= retransmission.announced,
                "TCP stamped it at \(earliest), departed at \(retransmission.time), announced at \(retransmission.announced)")
    }

    /// `bench observation`'s accounting: the kernel's run counts and run time of each program
    /// over a run, for programs that ran only because the scenario did.
    @Test("the programs' runs and CPU time over a scenario, from the kernel's own accounting")
    func programCostIsCounted() throws {
        let events = try KernelEvents.shared.get()
        let (result, cost) = try events.programCost { ScenarioRunner.run(Self.scenario) }
        #expect(result.status == .passed, "\(result.failureSummary)")
        func runs(_ program: String) -> UInt64 { cost.first { $0.program == program }?.runs ?? 0 }
        // At least the two connections' SYN_SENT and CLOSE, the client's two SYNs at the device
        // (one skb each), and its one SYN retransmission.
        #expect(runs("on_state") >= 4 && runs("on_queue") >= 2 && runs("on_retransmit") >= 1, "\(cost)")
        #expect(cost.contains { $0.nanoseconds > 0 })
        // The run also measured the kernel's tick (1/HZ: 100, 250, 300, 500 or 1000 Hz) and how far it lagged.
        let tick = try #require(result.kernelTick)
        #expect(tick.length == KernelTick.length && [0.001, 0.002, 1.0 / 300, 0.004, 0.01].contains { abs($0 - tick.length) < 1e-4 }, "\(tick)")
        #expect(tick.largestLag > 0 && tick.largestLag < 1, "\(tick)")
    }
}
