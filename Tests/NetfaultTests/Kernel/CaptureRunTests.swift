import Foundation
import Testing
@testable import Netfault
import NetfaultKernel

/// The packet timeline for real: captures in the test's own namespaces, joined with
/// what the faults did, written as pcapng files that libpcap, tcpdump and tshark read back.
@Suite("Capture on this kernel", .serialized, .enabled(if: RootOnly.isRoot, RootOnly.reason))
struct CaptureRunTests {
    /// A dropped first SYN and a FIN delayed 100 ms, 3000 bytes between.
    static var scenario: Scenario {
        Scenario("CAP", "capture", timeLimit: 20) {
            Host("client")
            Host("server")
            Link("client", "server", subnet: "10.77.98.0/24")
            Drop(.syn, at: .link(from: "client", to: "server"), .nth(1), name: "first SYN")
            Delay(.fin, by: 0.1, at: .link(from: "client", to: "server"), .nth(1), name: "slow FIN")
            Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .close)
            WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
            Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 3000), .close)
            WaitFor(exitOf: "server", timeout: 10)
            Expect.segments(.syn, from: "client", at: .seconds([0, 1]))
            // The FIN reaches the wire (where it is captured) 0.1 s after close() queued it; late by
            // up to the fault engine's wake-up on a loaded machine, which 50 ms covers.
            Expect.delay(from: .call(PeerCall("client", "close")), to: .segment(.fin, from: "client"), is: 0.1,
                         tolerance: Tolerance(early: 0.001, lateMinimum: 0.05, lateFraction: 0))
        }
    }

    @Test("every segment is recorded at both ends; a dropped one once, marked; the pcapng files hold them all, commented")
    func timelineAndPcap() throws {
        let directory = NSTemporaryDirectory() + "netfault-capture-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = Self.scenario
        try ScenarioRunner.check(scenario)
        let result = ScenarioRunner.run(scenario, options: RunOptions(pcapDirectory: directory))
        #expect(result.status == .passed, "\(result.failureSummary)")
        #expect(result.captureDropped == 0)
        #expect(result.capture == "libpcap" && result.captureNote == nil, "--pcap captures whole frames with libpcap")

        let sent = result.segments.filter { $0.direction == "out" }
        let dropped = result.segments.filter { $0.fault == "dropped by first SYN" }
        #expect(dropped.count == 1 && dropped[0].flags == "S" && dropped[0].receiver == nil && dropped[0].host == "client")
        // Everything else crossed the link: a receiver, and a matching "in" record there.
        for segment in sent where segment.fault?.hasPrefix("dropped") != true {
            #expect(segment.receiver != nil, "\(segment)")
        }
        #expect(result.segments.count == 2 * sent.count - 1)
        let fin = sent.first { $0.host == "client" && $0.flags.contains("F") }
        #expect(fin?.fault == "delayed 100 ms by slow FIN")
        #expect(result.segments.first { $0.flags == "S." }?.ack == 1, "relative numbers")
        #expect(result.segments.first { $0.flags == "S" && $0.fault == nil }?.options?.mss == 1460)

        // Each host's pcapng file: what reached the wire, plus the client's dropped SYN at its
        // instant, and a comment on each faulted frame.
        for host in ["client", "server"] {
            let path = "\(directory)/CAP/\(host).pcapng"
            let frames = try PcapFile.read(path)
            let onWire = result.segments.filter { $0.host == host && $0.window != nil }
            let droppedHere = host == "client" ? 1 : 0
            #expect(frames.count == onWire.count + droppedHere, "\(host): the wire's frames and the dropped SYN")
            #expect(frames.linkType == FrameDecoder.linuxSLL2)
            #expect(frames.records.map(\.timestamp) == frames.records.map(\.timestamp).sorted(), "in time order")
            if host == "client" {
                let first = try #require(FrameDecoder.decode(frames.bytes(0), linkType: frames.linkType))
                let retransmitted = try #require(FrameDecoder.decode(frames.bytes(1), linkType: frames.linkType))
                #expect(first.direction == .out && first.header.flags == .syn, "the dropped SYN comes first")
                #expect(first.header.sequence == retransmitted.header.sequence, "its bytes: the SYN the kernel sent again")
                // Its instant is the engine's; the retransmission follows about 1 s later (RTO).
                let gap = Double(frames.records[1].timestamp - frames.records[0].timestamp) / 1e9
                #expect(gap > 0.9 && gap < 1.5, "\(gap)")
            }
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") {
                let lines = try RootOnly.witness(["tcpdump", "-nn", "-r", path]).split(separator: "\n")
                #expect(lines.count == frames.count, "tcpdump reads \(host)'s file")
            }
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") {
                let comments = try RootOnly.witness(["tshark", "-r", path, "-T", "fields", "-e", "frame.comment"])
                    .split(separator: "\n").filter { !$0.isEmpty }
                #expect(comments == (host == "client" ? ["dropped by first SYN", "delayed 100 ms by slow FIN"] : []), "\(host)")
            }
        }
    }

    /// The timeline without --pcap comes from the BPF capture at tc egress: the same segments,
    /// each once per end, the dropped SYN once (the engine's), the delayed FIN at its release.
    @Test("the BPF capture records the same timeline: every segment at both ends, the dropped one once")
    func timelineFromTheBPFCapture() throws {
        try ScenarioRunner.check(Self.scenario)
        let result = ScenarioRunner.run(Self.scenario, options: RunOptions())
        #expect(result.status == .passed, "\(result.failureSummary)")
        #expect(result.capture == "bpf", "\(result.captureNote ?? "")")
        #expect(result.captureNote == nil, "every segment at its own departure: \(result.captureNote ?? "")")
        #expect(result.captureDropped == 0)
        let sent = result.segments.filter { $0.direction == "out" }
        let dropped = result.segments.filter { $0.fault == "dropped by first SYN" }
        #expect(dropped.count == 1 && dropped[0].flags == "S" && dropped[0].receiver == nil && dropped[0].host == "client")
        for segment in sent where segment.fault?.hasPrefix("dropped") != true {
            #expect(segment.receiver != nil, "\(segment)")
        }
        #expect(result.segments.count == 2 * sent.count - 1)
        #expect(sent.first { $0.host == "client" && $0.flags.contains("F") }?.fault == "delayed 100 ms by slow FIN")
        #expect(result.segments.first { $0.flags == "S" && $0.fault == nil }?.options?.mss == 1460)
        // 3000 bytes of data from the client: whether TCP sent them as one GSO packet or
        // several, the segments on the wire carry all of them, none larger than the MSS.
        let data = sent.filter { $0.host == "client" && $0.length > 0 }
        #expect(data.reduce(0) { $0 + $1.length } == 3000 && data.allSatisfy { $0.length <= 1448 }, "\(data.map(\.length))")
    }
}
