import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import Testing

/// `meta nfproto` and `iif`/`oif` in the policy language: what nft takes, what iptables can say.
@Suite struct FamilyAndInterfaceIndexTests {
  func resolve(_ text: String) -> (Policy?, [Diagnostic]) {
    var resolver = Resolver(source: MemorySource(["p.policy": text]))
    return resolver.resolve(path: "p.policy")
  }

  static let policy = """
    table inet fw {
      chain input {
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        oif != { "eth0", "lo" } meta nfproto ipv6 accept
      }
    }

    """

  @Test func theyParseFormatAndCompileToNFT() throws {
    let (policy, diagnostics) = resolve(Self.policy)
    #expect(diagnostics.isEmpty, "\(diagnostics)")
    let ruleset = try #require(policy?.firewalls.first?.ruleset)
    let rules = ruleset.tables[0].chains[0].rules
    #expect(rules[0].matches.map(\.kind) == [.interfaceIndex(.input, .single("lo"))])
    #expect(
      rules[1].matches.map(\.kind) == [.interfaceIndex(.output, .set(["eth0", "lo"])), .nfproto(.v6)])
    #expect(rules[1].matches[0].negated)
    let script = try NFTScript().compile(ruleset)
    #expect(script.contains("\t\tiif \"lo\" accept comment \"p.policy:4\"\n"))
    #expect(script.contains("\t\toif != { \"eth0\", \"lo\" } meta nfproto ipv6 accept comment \"p.policy:5\"\n"))
    let (formatted, formatDiagnostics) = Formatter().format(file: "p.policy", text: Self.policy)
    #expect(formatDiagnostics.isEmpty)
    #expect(formatted == Self.policy)
  }

  /// iptables names interfaces (`-i`), never their index: refused at the match, not widened.
  @Test func iptablesRefusesTheIndexAndKeepsTheFamilyRule() throws {
    let (policy, _) = resolve(
      Self.policy.replacingOccurrences(of: "fw", with: "filter").replacingOccurrences(
        of: "chain input", with: "chain INPUT"))
    let ruleset = try #require(policy?.firewalls.first?.ruleset)
    #expect(throws: DiagnosticList.self) { try IPTablesCompiler().compile(ruleset) }
    do {
      _ = try IPTablesCompiler().compile(ruleset)
    } catch let list as DiagnosticList {
      #expect(
        list.diagnostics.map(\.description).contains(
          "p.policy:4:5: error: iptables matches interfaces by name only: 'iif' (the interface's index) has no iptables form; write iifname"
        ))
    }
    let (family, _) = resolve(
      "table inet filter {\n  chain INPUT {\n    type filter hook input priority filter; policy drop;\n    meta nfproto ipv6 udp dport 546 accept\n  }\n}\n"
    )
    let output = try IPTablesCompiler(originComments: false).compile(try #require(family?.firewalls.first?.ruleset))
    #expect(output.ipv4?.contains("546") == false)
    #expect(output.ipv6?.contains("-A INPUT -p udp -m udp --dport 546 -j ACCEPT") == true)
  }

  @Test func theValidatorRefusesWhatNFTRefuses() {
    let (_, nfproto) = resolve(
      "table ip fw {\n  chain input {\n    type filter hook input priority filter; policy drop;\n    meta nfproto ipv4 accept\n  }\n}\n"
    )
    #expect(
      nfproto.map(\.description) == [
        "p.policy:4:5: error: 'meta nfproto' in an ip table: nft accepts it only in inet tables (the table's family already decides)"
      ])
    let (_, wildcard) = resolve(
      "table inet fw {\n  chain input {\n    type filter hook input priority filter; policy drop;\n    iif \"eth*\" accept\n  }\n}\n"
    )
    #expect(
      wildcard.map(\.description) == [
        "p.policy:4:9: error: 'iif' names one existing interface; for a wildcard write iifname \"eth*\""
      ])
  }
}
