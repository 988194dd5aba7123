import Testing
@testable import NetfaultKernel

@Suite struct PeerScriptTests {
    @Test func namesTheUnknownWord() {
        do {
            _ = try PeerScript(["conect"])
            Issue.record("a misspelt word parsed")
        } catch let error as PeerScriptError {
            #expect(error.message.contains("conect"), "\(error.message)")
            #expect(error.message.contains("unknown peer word"), "\(error.message)")
            #expect(error.description == error.message)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func errorsNameTheWordAndItsPosition() {
        #expect(throws: PeerScriptError.self) { try PeerScript(["listen", "127.0.0.1"]) }
        do {
            _ = try PeerScript(["listen", "127.0.0.1", "8080", "sleep", "10", "listen", "nowhere", "80"])
            Issue.record("a bad address parsed")
        } catch let error as PeerScriptError {
            #expect(error.message.contains("nowhere"), "\(error.message)")
            #expect(error.message.contains("word 6"), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func validScriptKeepsItsWords() throws {
        let words = ["listen", "127.0.0.1", "8080", "accept", "read-eof", "close", "hold"]
        #expect(try PeerScript(words).words == words)
    }
}
