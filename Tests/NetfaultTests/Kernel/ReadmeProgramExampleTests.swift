import Foundation
import Netfault
import Testing

// The DocC catalog's "Your own programs" example, run for real: `curl` is
// Snippets/OwnPrograms.swift, linked into this target from Kernel/Snippets/ (one copy). If this
// stops compiling or passing, the docs are wrong.
@Test(.enabled(if: RootOnly.isRoot, RootOnly.reason),
      .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
               && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs curl and python3"))
func curlAfterALostSynAck() async throws {
    let result = try await curl.run()
    #expect(result.status == .passed, "\(result.failureSummary)")
    #expect(result.expectations.last?.observed.hasPrefix("time_connect 1.") == true, "\(result.expectations)")
}
