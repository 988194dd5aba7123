import Foundation
import Testing

/// The README's code, held to what is compiled and run, so that it cannot rot: its scenario is
/// the catalog's C8 and its library example's scenario is `Snippets/FirstScenario.swift`, line
/// for line, which `Kernel/ReadmeExampleTests.swift` runs. (The DocC articles' code is
/// `Snippets/`, which `swift build` compiles.)
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

    /// The README's test: its scenario is Snippets/FirstScenario.swift's line for line (the
    /// snippet that ReadmeExampleTests runs as root), and it judges the run as that test does.
    @Test func theLibraryExampleIsTheTestedOne() throws {
        let block = try #require(try Self.blocks("swift").first { $0.contains { $0.contains("func refusedConnection") } })
        let snippet = Set(try Self.text("Snippets/FirstScenario.swift").components(separatedBy: "\n").map(Self.code))
        // The scenario, from its first line to its closing brace: the snippet's own (bar the name).
        let scenario = block.drop { !$0.contains("Scenario(\"refused\"") }.prefix { Self.code($0) != "}" }.map(Self.code)
            .map { $0.replacingOccurrences(of: "let scenario = ", with: "let refused = ") }
        #expect(scenario.count == 8, "\(scenario)")
        for line in scenario { #expect(snippet.contains(line), "README line not in Snippets/FirstScenario.swift: \(line)") }
        #expect(block.map(Self.code).contains("let result = try await scenario.run()")
                && snippet.contains("let result = try await refused.run()"))
        let tested = Set(try Self.text("Tests/NetfaultTests/Kernel/ReadmeExampleTests.swift").components(separatedBy: "\n").map(Self.code))
        let judged = try #require(block.last { $0.contains("#expect(") }).trimmingCharacters(in: .whitespaces)
        #expect(tested.contains(judged), "the README's #expect is not ReadmeExampleTests.swift's: \(judged)")
    }
}
