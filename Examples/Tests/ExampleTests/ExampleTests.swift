import ExampleScenarios
import Foundation
import Netfault
import Testing

/// Each example run for real, as a user's own test would; skipped, saying why, without root.
@Suite(.enabled(if: getuid() == 0, "netfault builds network namespaces: run as root"), .serialized)
struct ExampleTests {
    @Test(arguments: examples.map(\.id))
    func passesAndLeavesNothing(id: String) async throws {
        let scenario = try #require(examples.first { $0.id == id })
        let result = try await scenario.run()
        #expect(result.status == .passed, "\(result.failureSummary)")
        // Programs (nginx's workers included) end with the scenario, and nginx's tmpfs
        // lived in a mount namespace of its own.
        let leftovers = Leftovers.processes(mentioning: ["10.77.101.", "10.77.102.", "10.77.103.", "/var/lib/nginx/nginx.conf"])
        #expect(leftovers.isEmpty, "still running: \(leftovers)")
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!mounts.contains("netfault-nginx"), "\(mounts)")
    }
}

enum Leftovers {
    /// Command lines (arguments joined by spaces) of processes with any of these texts in one.
    static func processes(mentioning texts: [String]) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            guard let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            return texts.contains { line.contains($0) } ? "\(pid): \(line)" : nil
        }
    }
}
