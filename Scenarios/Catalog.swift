import Foundation
import Netfault

/// The scenario catalog: one scenario per behaviour of SCENARIOS.md.
public enum Catalog {
    /// In catalog order (H, then C, then K).
    public static let all: [Scenario] = [
        handshake,
        fourWayClose, threeSegmentClose, timeWaitDuration, closeWaitPileUp, serverTimeWait,
        processCrash, nagle, mss, connectionRefused, halfClose,
    ]

    public static func scenario(id: String) -> Scenario? {
        all.first { $0.id.caseInsensitiveCompare(id) == .orderedSame }
    }
}
