import FirebreakCLI
import Foundation
import PolicyLanguage
import Testing

@Suite struct ArgumentsTests {
  let spec = Arguments.Spec(
    valued: ["--backend", "-o"], switches: ["--check"], positionals: 1...2, positionalName: "POLICY file")

  @Test func parsesValuesSwitchesAndPositionals() throws {
    let a = try Arguments(["--backend", "nft", "p.policy", "--check", "-o", "x", "q.policy"], spec: spec)
    #expect(a.values["--backend"] == "nft")
    #expect(a.values["-o"] == "x")
    #expect(a.switches == ["--check"])
    #expect(a.positionals == ["p.policy", "q.policy"])
  }

  @Test func equalsFormAndDoubleDash() throws {
    let a = try Arguments(["--backend=iptables", "--", "--weird-name.policy"], spec: spec)
    #expect(a.values["--backend"] == "iptables")
    #expect(a.positionals == ["--weird-name.policy"])
  }

  @Test(arguments: [
    (["--bogus", "p"], "unknown option --bogus"),
    (["p", "--backend"], "option --backend needs a value"),
    ([], "missing POLICY file"),
    (["a", "b", "c"], "unexpected argument 'c'"),
    (["--check=yes", "p"], "option --check takes no value"),
  ])
  func usageErrors(args: [String], message: String) {
    #expect(throws: Arguments.UsageError(message: message)) { try Arguments(args, spec: spec) }
  }

  @Test func helpNeedsNoPositionals() throws {
    #expect(try Arguments(["--help"], spec: spec).wantsHelp)
  }
}

@Suite struct CommandTests {
  let lab = """
    table ip filter {
      chain FORWARD {
        type filter hook forward priority filter; policy drop;
        ip saddr 11.11.11.0/24 accept
      }
    }

    """

  func run(_ args: [String], files: [String: String]) -> (Int32, Console) {
    let console = Console.capturing()
    return (CLI(console: console, source: MemorySource(files)).run(args), console)
  }

  @Test func unknownCommandAndFlagsExit2WithOneLine() {
    let (s1, c1) = run(["frobnicate"], files: [:])
    #expect(s1 == 2)
    #expect(c1.err == "firebreak: error: unknown command 'frobnicate' (try 'firebreak --help')\n")
    let (s2, c2) = run(["compile", "--backend", "pf", "p.policy"], files: ["p.policy": lab])
    #expect(s2 == 2)
    #expect(
      c2.err == "firebreak: error: --backend must be one of nft, iptables, not 'pf' (try 'firebreak compile --help')\n")
    #expect(c2.out.isEmpty)
    let (s3, c3) = run(["check"], files: [:])
    #expect(s3 == 2)
    #expect(c3.err.split(separator: "\n").count == 1)
  }

  @Test(arguments: ["check", "fmt", "compile"])
  func everyCommandHasHelp(command: String) {
    let (status, console) = run([command, "--help"], files: [:])
    #expect(status == 0)
    #expect(console.out.hasPrefix("Usage: firebreak \(command)"))
  }

  @Test func checkSummarizesValidPolicy() {
    let (status, console) = run(["check", "p.policy"], files: ["p.policy": lab])
    #expect(status == 0)
    #expect(console.out == "p.policy: ok (1 firewall, 1 table, 1 chain, 1 rule)\n")
  }

  @Test func fmtCheckExitsOneOnNonCanonical() {
    let messy = lab.replacingOccurrences(of: "  ", with: "\t")
    let (status, console) = run(
      ["fmt", "--check", "a.policy", "b.policy"], files: ["a.policy": lab, "b.policy": messy])
    #expect(status == 1)
    #expect(console.out == "b.policy\n")
    let (ok, _) = run(["fmt", "--check", "a.policy"], files: ["a.policy": lab])
    #expect(ok == 0)
  }

  @Test func compileNftCarriesOrigin() {
    let (status, console) = run(["compile", "--backend", "nft", "p.policy"], files: ["p.policy": lab])
    #expect(status == 0)
    #expect(console.out.contains("ip saddr 11.11.11.0/24 accept comment \"p.policy:4\""))
  }

  @Test func compileRefusesWhatTheBackendCannotExpressAtItsLine() {
    let policy =
      "table ip filter {\n  chain FORWARD {\n    type filter hook forward priority filter; policy drop;\n    physdev in \"reth1\" accept\n  }\n}\n"
    let (status, console) = run(["compile", "--backend", "nft", "p.policy"], files: ["p.policy": policy])
    #expect(status == 2)
    #expect(console.out.isEmpty)
    #expect(console.err.hasPrefix("p.policy:4:5: error: nftables has no bridge-port (physdev) match"))
  }

  @Test func severalFirewallsArePrintedHeadedOrSelected() {
    let policy = """
      topology {
        namespace A
        namespace B
      }
      firewall A {
        table ip filter {
        }
      }
      firewall B {
        table ip nat {
        }
      }

      """
    let (status, console) = run(["compile", "p.policy"], files: ["p.policy": policy])
    #expect(status == 0)
    #expect(console.out.contains("# firewall A\n") && console.out.contains("# firewall B\n"))
    let (s2, c2) = run(["compile", "--firewall", "B", "p.policy"], files: ["p.policy": policy])
    #expect(s2 == 0)
    #expect(c2.out.contains("table ip nat") && !c2.out.contains("table ip filter"))
    let (s3, c3) = run(["compile", "--firewall", "C", "p.policy"], files: ["p.policy": policy])
    #expect(s3 == 2)
    #expect(c3.err.contains("has no firewall for namespace 'C' (it has: A, B)"))
  }

  @Test func prefixMustNotBeAPath() {
    let (status, console) = run(
      ["topology", "show", "--prefix", "../../proc/self/ns/", "p.policy"],
      files: ["p.policy": "topology {\n  namespace net\n}\n"])
    #expect(status == 2)
    #expect(console.err.contains("--prefix '../../proc/self/ns/' must be letters, digits, '_', '-' or '.'"))
  }
}
