import Testing
@testable import Netfault

@Suite struct LadderDiagramTests {
    /// A rendered ladder as rows of characters, to check what is drawn at each host's column.
    private struct Drawing {
        let rows: [[Character]]

        init(_ text: String) {
            rows = text.split(separator: "\n").map { Array($0) }
        }

        /// A host's lifeline is where its name starts in the header (the second line).
        func column(_ host: String) throws -> Int {
            let header = String(rows[1])
            let range = try #require(header.range(of: host), "no \(host) in the header \(header)")
            return header.distance(from: header.startIndex, to: range.lowerBound)
        }

        func row(_ text: String) throws -> [Character] {
            try #require(rows.first { String($0).contains(text) }, "no row with \(text)")
        }

        func rows(_ text: String) -> [[Character]] { rows.filter { String($0).contains(text) } }
    }

    private func isBlank(_ row: [Character], from start: Int, to end: Int) -> Bool {
        row[start...end].allSatisfy { $0 == " " }
    }

    @Test func lostSynLadder() {
        #expect(LadderDiagram.render(SegmentFixtures.lostSyn) == """
            H3  One SYN lost, the next one delivered
                        client                        server
              0.000050  │                             ├ LISTEN
              0.001000  ├ SYN_SENT                    │
              0.001020  │──────────────✕              │   S seq 0 len 0  [dropped by first SYN]
              1.003000  │────────────────────────────▶│   S seq 0 len 0
              1.003020  │                             ├ SYN_RECV
              1.003040  │◀────────────────────────────│   S. seq 0 ack 1 len 0
              1.003060  ├ ESTABLISHED                 │
              1.003080  │────────────────────────────▶│   . seq 1 ack 1 len 0  [delayed 300 ms by slow-ack]
              1.303120  │                             ├ ESTABLISHED

            """)
    }

    @Test func arrowsPointFromSenderToReceiver() throws {
        let drawing = Drawing(LadderDiagram.render(SegmentFixtures.lostSyn))
        let client = try drawing.column("client"), server = try drawing.column("server")
        #expect(client < server, "the client, which sends first, is on the left")

        let syn = try drawing.row("1.003000")
        #expect(syn[client] == "│" && syn[client + 1] == "─" && syn[server - 1] == "▶" && syn[server] == "│")
        let synAck = try drawing.row("S. seq 0 ack 1 len 0")
        #expect(synAck[client] == "│" && synAck[client + 1] == "◀" && synAck[server - 1] == "─" && synAck[server] == "│")
        #expect(!String(synAck).contains("▶"))
    }

    @Test func droppedSegmentEndsHalfwayWithItsFault() throws {
        let drawing = Drawing(LadderDiagram.render(SegmentFixtures.lostSyn))
        let client = try drawing.column("client"), server = try drawing.column("server")
        let dropped = try drawing.row("[dropped by first SYN]")
        let cross = (client + server) / 2
        #expect(dropped[cross] == "✕")
        #expect(dropped[(client + 1)..<cross].allSatisfy { $0 == "─" })
        #expect(isBlank(dropped, from: cross + 1, to: server - 1))
        #expect(!String(dropped).contains("▶"))
        #expect(String(dropped).contains("S seq 0 len 0  [dropped by first SYN]"))
    }

    @Test func otherFaultsFollowTheirArrow() throws {
        let drawing = Drawing(LadderDiagram.render(SegmentFixtures.lostSyn))
        let delayed = String(try drawing.row(". seq 1 ack 1 len 0"))
        #expect(delayed.contains("▶│   . seq 1 ack 1 len 0  [delayed 300 ms by slow-ack]"))
    }

    @Test func stateChangesAreWrittenAtTheirHostsColumnInTimeOrder() throws {
        let drawing = Drawing(LadderDiagram.render(SegmentFixtures.lostSyn))
        let client = try drawing.column("client"), server = try drawing.column("server")
        #expect(try drawing.row("LISTEN")[server] == "├")
        #expect(try drawing.row("SYN_SENT")[client] == "├")
        #expect(try drawing.row("SYN_RECV")[server] == "├")
        let established = drawing.rows("├ ESTABLISHED")
        #expect(established.count == 2)
        #expect(established.first?[client] == "├" && established.last?[server] == "├")

        let times = drawing.rows.dropFirst(2).compactMap { Double(String($0).split(separator: " ").first ?? "") }
        #expect(times.count == 9)
        #expect(times == times.sorted())
    }

    @Test func routerSitsBetweenClientAndServer() throws {
        let drawing = Drawing(LadderDiagram.render(SegmentFixtures.routed))
        let client = try drawing.column("client"), router = try drawing.column("router"), server = try drawing.column("server")
        #expect(client < router && router < server)

        let toRouter = try drawing.row("0.000100")
        #expect(toRouter[router - 1] == "▶" && isBlank(toRouter, from: router + 1, to: server - 1))
        let toServer = try drawing.row("0.000120")
        #expect(isBlank(toServer, from: client + 1, to: router - 1) && toServer[server - 1] == "▶")
        let backToRouter = try drawing.row("0.000200")
        #expect(backToRouter[router + 1] == "◀" && backToRouter[server] == "│")
        let backToClient = try drawing.row("0.000220")
        #expect(backToClient[client + 1] == "◀" && isBlank(backToClient, from: router + 1, to: server - 1))
        #expect(try drawing.row("SYN_RECV")[server] == "├")
    }

    @Test func segmentLostOnTheWayToAFarHostStopsOnItsFirstLink() throws {
        let drawing = Drawing(LadderDiagram.render(SegmentFixtures.routed))
        let client = try drawing.column("client"), router = try drawing.column("router"), server = try drawing.column("server")
        let fin = try drawing.row("[dropped by lose-fin]")
        #expect(fin[(client + router) / 2] == "✕" && isBlank(fin, from: (client + router) / 2 + 1, to: router - 1))
        let ack = try drawing.row("[dropped by lose-ack]")
        #expect(isBlank(ack, from: client + 1, to: router - 1) && ack[(router + server) / 2] == "✕")
    }

    @Test func arrowCrossesAColumnThatDidNotCaptureIt() throws {
        var scenario = SegmentFixtures.routed
        scenario.segments.append(SegmentFixtures.sent(0.6, "client", SegmentFixtures.routedClient,
                                                      SegmentFixtures.routedServer, "R", seq: 1, ack: 0, to: "server"))
        let drawing = Drawing(LadderDiagram.render(scenario))
        let router = try drawing.column("router"), server = try drawing.column("server")
        let reset = try drawing.row("R seq 1 len 0")
        #expect(reset[router] == "─" && reset[server - 1] == "▶")
    }

    @Test func longLaddersKeepTheirFirstAndLastRows() {
        let text = LadderDiagram.render(SegmentFixtures.bulk(count: 300), maxRows: 20)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 + 10 + 1 + 10)
        #expect(lines[2].hasPrefix("  0.000000  │"))
        #expect(lines[12].hasSuffix("… 580 more segments …"))
        #expect(lines[22].hasPrefix("  0.299500  │◀"))
    }

    @Test func elisionCountsStateChangesApart() {
        var scenario = SegmentFixtures.bulk(count: 10)
        scenario.sockets = [SocketTimeline(host: "client", local: SegmentFixtures.client, remote: SegmentFixtures.server,
                                           transitions: (0..<10).map { StateTransition(time: Double($0) * 0.001 + 0.0002, state: "ESTABLISHED") })]
        #expect(LadderDiagram.render(scenario, maxRows: 4).contains("… 18 more segments and 8 more state changes …"))
    }

    @Test func scenarioWithoutSegments() {
        #expect(LadderDiagram.render(SegmentFixtures.noSegments) == "E1  Nothing on the wire\n  no segments were captured\n")
    }

    @Test func lostCaptureFramesAreMentioned() {
        var scenario = SegmentFixtures.lostSyn
        scenario.captureDropped = 3
        #expect(LadderDiagram.render(scenario).contains("the capture lost 3 frames"))
    }

    @Test func loneHostDrawsAStub() {
        var scenario = SegmentFixtures.noSegments
        scenario.segments = [SegmentFixtures.sent(0.1, "client", SegmentFixtures.client, SegmentFixtures.server, "S",
                                                  seq: 0, ack: 0, to: nil, fault: "dropped by lose-syn")]
        #expect(LadderDiagram.render(scenario).contains("  0.100000  │─✕   S seq 0 len 0  [dropped by lose-syn]"))
    }

    @Test func escapeSequencesAreShownNotSentToTheTerminal() throws {
        let text = LadderDiagram.render(SegmentFixtures.hostile)
        #expect(!text.contains("\u{1B}"))
        let drawing = Drawing(text)
        #expect(try drawing.column("evil\u{241B}[31m\"host") < drawing.column("server"))
        // The newline in the fault text stays on its row instead of breaking the grid.
        #expect(String(try drawing.row("[delayed by")).hasSuffix("[delayed by <img src=x>\u{241B}[2J\u{240A}next line]"))
        #expect(try drawing.row("<b>ESTABLISHED</b>")[drawing.column("evil")] == "├")
    }
}
