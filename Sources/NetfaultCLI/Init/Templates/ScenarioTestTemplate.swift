/// The new package's Swift Testing test: runs the scenario for real, skipped (saying why)
/// without root.
enum ScenarioTestTemplate {
    static let text = #"""
        import Foundation
        import Netfault
        import Scenarios
        import Testing

        @Test(.enabled(if: getuid() == 0, "netfault builds network namespaces: run as root (sudo swift test)"))
        func curlWaitsOutALostSynAck() async throws {
            let result = try await slowHandshake.run()
            #expect(result.status == .passed, "\(result.failureSummary)")
        }

        """#
}
