import Foundation
import Testing
@testable import Netfault
import NetfaultKernel

/// The packet timeline for real: captures in the test's own namespaces, joined with
/// what the faults did, written as pcap files that libpcap and tcpdump read back.
@Suite("Capture on this kernel", .serialized, .enabled(if: RootOnly.isRoot, RootOnly.reason))
struct CaptureRunTests {
    @Test("every segment is recorded at both ends; a dropped one once, marked; the pcap files hold the rest")
    func timelineAndPcap() throws {
        let directory = NSTemporaryDirectory() + "netfault-capture-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = Scenario("CAP", "capture", timeLimit: 20) {
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
        try ScenarioRunner.check(scenario)
        let result = ScenarioRunner.run(scenario, options: RunOptions(pcapDirectory: directory))
        #expect(result.status == .passed, "\(result.failureSummary)")
        #expect(result.captureDropped == 0)

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

        for host in ["client", "server"] {
            let path = "\(directory)/CAP/\(host).pcap"
            let frames = try PcapFile.read(path)
            let recorded = result.segments.filter { $0.host == host && $0.window != nil }
            #expect(frames.count == recorded.count, "\(host): the file holds what reached the wire")
            #expect(frames.linkType == FrameDecoder.linuxSLL2)
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") {
                let lines = try RootOnly.witness(["tcpdump", "-nn", "-r", path]).split(separator: "\n")
                #expect(lines.count == recorded.count, "tcpdump reads \(host)'s file")
            }
        }
    }
}
