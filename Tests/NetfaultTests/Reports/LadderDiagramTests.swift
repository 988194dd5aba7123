import Foundation
import Testing
@testable import Netfault

@Suite struct LadderDiagramTests {
    @Test func dump() throws {
        for s in SegmentFixtures.run.scenarios { print(LadderDiagram.render(s)) }
        print(LadderDiagram.render(SegmentFixtures.bulk(count: 30), maxRows: 10))
        var r = SegmentFixtures.run; r.scenarios = [SegmentFixtures.routed, SegmentFixtures.hostile]
        try HTMLReport.render(r).write(toFile: "/tmp/reports-sample/draft2.html", atomically: true, encoding: .utf8)
        try HTMLReport.render(SegmentFixtures.run).write(toFile: "/tmp/reports-sample/draft.html", atomically: true, encoding: .utf8)
    }
}
