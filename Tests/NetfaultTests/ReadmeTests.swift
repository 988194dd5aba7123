import Foundation
import Testing

/// The README's code, held to what is compiled and run, so that it cannot rot: its scenario is
/// the catalog's C8 and its library example is `Kernel/ReadmeExampleTests.swift`, line for line.
/// (The DocC articles' code is `Snippets/`, which `swift build` compiles.)
struct ReadmeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The README's fenced blocks of one language, each as its lines.
    static func blocks(_ language: String) throws -> [[String]] {
        var blocks: [[String]] = [], current: [String]?
        for line in try text("README.md").components(separatedBy: "\n") {
            if current == nil, line == "```\(language)" { current = [] } else if current != nil, line == "```" {
                blocks.append(current!)
                current = nil
            } else { current?.append(line) }
        }
        return blocks
    }

    /// A line without its trailing `//` comment and surrounding spaces.
    static func code(_ line: String) -> String {
        let withoutComment = line.range(of: "  //").map { String(line[..<$0.lowerBound]) } ?? line
        return withoutComment.trimmingCharacters(in: .whitespaces)
    }

    @Test func quickStartIsStillTwoCommands() throws {
        let shell = try Self.blocks("sh")
        #expect(shell.first == ["bash scripts/run-catalog.sh", "bash scripts/test.sh"], "\(shell.first ?? [])")
        for script in ["scripts/run-catalog.sh", "scripts/test.sh", "scripts/docs.sh"] {
            #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(script).path), "\(script)")
        }
    }

    @Test func theScenarioIsTheCatalogsC8() throws {
        let block = try #require(try Self.blocks("swift").first { $0.contains { $0.contains("Scenario(\"C8\"") } })
        let catalog = Set(try Self.text("Scenarios/C8_CloseWaitPileUp.swift").components(separatedBy: "\n").map(Self.code))
        // The body, from Host to the last expectation: every line is the catalog's.
        let body = block.drop { !$0.contains("Host(") }.prefix { $0 != "}" }.map(Self.code)
        #expect(body.count == 13, "\(body)")
        for line in body { #expect(catalog.contains(line), "README line not in Scenarios/C8_CloseWaitPileUp.swift: \(line)") }
    }

    @Test func theLibraryExampleIsTheTestedOne() throws {
        let block = try #require(try Self.blocks("swift").first { $0.contains { $0.contains("func refusedConnection") } })
        let tested = try Self.text("Tests/NetfaultTests/Kernel/ReadmeExampleTests.swift")
        // The test file gives @Test a trait on a line of its own; the README does not.
        let lines = block.filter { !$0.hasPrefix("import ") && !$0.isEmpty }
            .map { $0.hasPrefix("@Test func ") ? String($0.dropFirst("@Test ".count)) : $0 }
        #expect(lines.count > 10)
        #expect(tested.contains(lines.joined(separator: "\n")), "the README's example differs from ReadmeExampleTests.swift")
    }
}
