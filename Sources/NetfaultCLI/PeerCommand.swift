import ArgumentParser
import Foundation
import NetfaultKernel

struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Run the built-in scripted socket peer (prints one JSON line per event).",
        discussion: """
            Words: listen ADDR PORT [BACKLOG] | accept | connect ADDR PORT [TIMEOUT_MS] |
            bind ADDR PORT | write BYTES [COUNT [PAUSE_MS]] | read BYTES | read-eof |
            sleep MS | nodelay | keepalive IDLE INTVL COUNT | linger0 | rcvbuf BYTES |
            shutdown-wr | close | close-listener | hold | exit [STATUS] | repeat N … end |
            udp-bind ADDR PORT | sendto ADDR PORT BYTES | recvfrom [TIMEOUT_MS]
            Example: ip netns exec nf-1234-h1-server netfault peer listen 0.0.0.0 8080 accept read-eof close
            """
    )

    @Argument(parsing: .captureForPassthrough, help: "The script's words.")
    var words: [String] = []

    func run() throws {
        // Words pass through unparsed, so help must be caught here.
        if words == ["--help"] || words == ["-h"] {
            print(Self.helpMessage())
            return
        }
        let status = PeerProgram.main(words)
        throw ExitCode(status)
    }
}
