import FirebreakCLI
import Foundation
import PolicyLanguage
import Testing

/// `firebreak plan` in-process: no kernel change, a fresh state directory (nothing applied yet,
/// so the plan compares with no firewall), the management flow from the environment.
@Suite struct PlanCommandTests {
  static let lockout = """
    table inet filter {
      chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
      }
    }

    """
  static let admitsSSH = """
    table inet filter {
      chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        tcp dport 22 accept
      }
    }

    """

  func plan(_ policy: String, _ extra: [String] = []) -> (Int32, Console) {
    let console = Console.capturing()
    let state = NSTemporaryDirectory() + "fbt-plan-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: state) }
    let cli = CLI(
      console: console, source: MemorySource(["p.policy": policy]),
      environment: ["SSH_CONNECTION": "192.0.2.10 50000 10.0.0.1 22"])
    return (cli.run(["plan", "--state-dir", state, "--iif", "eth0"] + extra + ["p.policy"]), console)
  }

  @Test func predictedLockoutExitsFourWithTheLoudBlock() {
    let (status, console) = plan(Self.lockout)
    #expect(status == 4)
    #expect(console.out.contains("!!! LOCKOUT"), "\(console.out)")
    #expect(console.out.contains("new connection: tcp 192.0.2.10:50001 -> 10.0.0.1:22"), "\(console.out)")
  }

  @Test func admittedSSHPassesAndTheDiffIsListed() {
    let (status, console) = plan(Self.admitsSSH)
    #expect(status == 0, "\(console.err)")
    #expect(console.out.contains("+ rule inet filter input [1]: tcp dport 22 accept  (p.policy:5:5)"), "\(console.out)")
    #expect(!console.out.contains("LOCKOUT"))
  }

  @Test func jsonCarriesDiffFlowsAndManagement() {
    let (status, console) = plan(Self.lockout, ["--json"])
    #expect(status == 4)
    let text = console.out
    #expect(text.hasPrefix("{\"against_generation\": null, \"lockout\": true"), "\(text)")
    #expect(text.contains("\"object\": \"chain\""))
    #expect(text.contains("\"flow_changes\": [{"))
    #expect(text.contains("\"origin\": \"SSH_CONNECTION\""))
  }

  @Test func badKeepIsAUsageError() {
    let (status, console) = plan(Self.admitsSSH, ["--keep", "nonsense"])
    #expect(status == 2)
    #expect(console.err.contains("--keep"), "\(console.err)")
  }
}
