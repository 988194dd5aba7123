import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Netfault

@Suite struct JUnitReportTests {
    private let xml = JUnitReport.render(ReportFixtures.run, hostname: "ci-runner")

    private func parsed() throws -> XMLElement {
        try #require(try XMLDocument(xmlString: xml, options: []).rootElement())
    }

    private func testcases() throws -> [XMLElement] {
        try parsed().elements(forName: "testsuite").flatMap { $0.elements(forName: "testcase") }
    }

    @Test func startsWithTheXMLDeclaration() {
        #expect(xml.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"# + "\n<testsuites"))
    }

    @Test func suiteCountsAndAttributes() throws {
        let root = try parsed()
        #expect(root.name == "testsuites")
        let suite = try #require(root.elements(forName: "testsuite").first)
        let attribute = { (name: String) in suite.attribute(forName: name)?.stringValue }
        #expect(attribute("name") == "netfault")
        #expect(attribute("tests") == "4")
        #expect(attribute("failures") == "1")
        #expect(attribute("errors") == "1")
        #expect(attribute("skipped") == "1")
        #expect(attribute("time") == "1.835")
        #expect(attribute("timestamp") == "2025-01-02T03:04:05Z")
        #expect(attribute("hostname") == "ci-runner")
    }

    @Test func oneTestcasePerScenario() throws {
        let cases = try testcases()
        #expect(cases.map { $0.attribute(forName: "name")?.stringValue } ==
            ["H1 Three-way handshake", "C7 Refused connection", "E2 Setup broke", "T3 TFO fallback"])
        #expect(cases.allSatisfy { $0.attribute(forName: "classname")?.stringValue == "netfault.6.8.0-45-generic" })
        #expect(cases.first?.attribute(forName: "time")?.stringValue == "1.235")
        #expect(cases.first?.children == nil || cases.first?.children?.isEmpty == true)
    }

    @Test func failureCarriesAllFailedExpectationsAndTheError() throws {
        let failure = try #require(try testcases()[1].elements(forName: "failure").first)
        #expect(failure.attribute(forName: "type")?.stringValue == "expectation")
        // The parser unescapes, so getting the raw characters back proves the escaping was right.
        #expect(failure.attribute(forName: "message")?.stringValue ==
            #"Scenarios/C7.swift:23: connect fails: expected <&">, observed ok"#)
        #expect(failure.stringValue?.components(separatedBy: "\n") == [
            #"Scenarios/C7.swift:23: connect fails: expected <&">, observed ok"#,
            "Scenarios/C7.swift:24: RST counted: expected 1, observed 0",
            "error: peer timed out",
        ])
    }

    @Test func stderrGoesToSystemErrWithControlCharactersReplaced() throws {
        let systemErr = try #require(try testcases()[1].elements(forName: "system-err").first)
        #expect(systemErr.stringValue?.contains("connect: Connection refused\u{FFFD}") == true)
        #expect(!xml.contains("\u{01}"))
    }

    @Test func errorWithoutFailedExpectationIsAnError() throws {
        let testcase = try testcases()[2]
        #expect(testcase.elements(forName: "failure").isEmpty)
        let error = try #require(testcase.elements(forName: "error").first)
        #expect(error.attribute(forName: "message")?.stringValue == "netlink: EPERM")
    }

    @Test func skippedCarriesTheReason() throws {
        let skipped = try #require(try testcases()[3].elements(forName: "skipped").first)
        #expect(skipped.attribute(forName: "message")?.stringValue == "needs kernel ≥ 6.1")
    }

    @Test func rawTextIsEscaped() {
        #expect(xml.contains("expected &lt;&amp;&quot;&gt;, observed ok"))
        #expect(!xml.contains(#"<&">"#))
    }

    @Test func escapingReplacesEveryUnsafeCharacter() {
        #expect(XMLEscaping.attribute("a&b<c>d\"e'f\tg\nh\r\u{0}\u{7F}") ==
            "a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h&#13;\u{FFFD}\u{FFFD}")
        #expect(XMLEscaping.text("line 1\n\tline 2\r\u{1B}[31m") == "line 1\n\tline 2&#13;\u{FFFD}[31m")
    }
}
