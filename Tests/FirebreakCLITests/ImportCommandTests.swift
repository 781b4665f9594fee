import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import RulesetImport
import Testing

@testable import FirebreakCLI

/// `firebreak import`: a corpus dump becomes a policy that checks, and compiles back to iptables
/// exactly as the imported model does (opaque parts included, written `iptables "…"`).
@Suite struct ImportCommandTests {
  static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Corpus").path
  static let dumps: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []
    return names.filter { $0.hasSuffix(".iptables-save") }.sorted()
  }()
  @Test func corpusIsPresent() { #expect(Self.dumps.count == 5, "\(Self.corpus)") }

  @Test(arguments: dumps)
  func importedPolicyCompilesBackLikeTheImport(_ name: String) throws {
    let path = Self.corpus + "/" + name
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let imported = IPTablesSaveImporter().importRuleset(text, file: path)
    #expect(!imported.hasErrors)
    let console = Console.capturing()
    let status = CLI(console: console).run(["import", path])
    #expect(status == 0, "\(console.err)")
    var resolver = Resolver(source: MemorySource(["imported.policy": console.out]))
    let (policy, diagnostics) = resolver.resolve(path: "imported.policy")
    let firewall = try #require(policy?.firewalls.first, "\(diagnostics.map(\.description))")
    // The same model up to the order of set elements (a policy writes `{ 21, 80 }` sorted and
    // merged, as nft lists it; multiport keeps the dump's order): the canonical listings agree,
    // and the policy compiles back to iptables.
    let listing = { (r: Ruleset) in NFTScript().listing(r, comments: .userOnly, dialect: .policy) }
    #expect(listing(firewall.ruleset) == listing(imported.ruleset), "\(name)")
    let compiled = try IPTablesCompiler(originComments: false).compile(firewall.ruleset)
    #expect(compiled.ipv4?.contains("COMMIT") == true)
  }

  /// The parser stress test's chain `DOS~Pro-t_ect` and comment `"` are iptables-only: the policy
  /// quotes the name, and the nft backend refuses both at their lines.
  @Test func iptablesOnlyNamesAreQuotedAndRefusedByNFT() throws {
    let path = Self.corpus + "/26_parser_stress_test.iptables-save"
    let console = Console.capturing()
    #expect(CLI(console: console).run(["import", path]) == 0, "\(console.err)")
    #expect(console.out.contains("  chain \"DOS~Pro-t_ect\" {\n"))
    #expect(console.out.contains("ip saddr 100.0.0.0/24 meta l4proto tcp jump \"DOS~Pro-t_ect\"\n"))
    let nft = Console.capturing()
    let status = CLI(console: nft, source: MemorySource(["s.policy": console.out])).run([
      "compile", "--backend", "nft", "s.policy",
    ])
    #expect(status == 2)
    #expect(nft.err.contains("error: nft cannot name a chain 'DOS~Pro-t_ect'"), "\(nft.err)")
    #expect(nft.err.contains("error: nft cannot load a string containing '\"' (\"\\\"\")"), "\(nft.err)")
    #expect(nft.out.isEmpty)
  }

  static let nftJSON = """
    {"nftables": [{"table": {"family": "ip", "name": "filter", "handle": 1}},
    {"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
    {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 2, "expr": [RULE]}}]}
    """

  @Test func anNFTJSONDumpBecomesAPolicyThatChecks() throws {
    let json = Self.nftJSON.replacingOccurrences(
      of: "RULE",
      with:
        #"{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}"#
    )
    let console = Console.capturing()
    let status = CLI(console: console, source: MemorySource(["fw.json": json])).run(["import", "fw.json"])
    #expect(status == 0, "\(console.err)")
    #expect(console.out.contains("tcp dport 22 accept"))
    var resolver = Resolver(source: MemorySource(["imported.policy": console.out]))
    let (policy, diagnostics) = resolver.resolve(path: "imported.policy")
    #expect(policy != nil, "\(diagnostics)")
  }

  @Test func unmodelledNFTExpressionsAreRefusedNotPrintedAsIPTables() {
    let json = Self.nftJSON.replacingOccurrences(
      of: "RULE",
      with:
        #"{"match": {"op": "==", "left": {"fib": {"flags": ["daddr", "iif"], "result": "type"}}, "right": "local"}}, {"accept": null}"#
    )
    let console = Console.capturing()
    let status = CLI(console: console, source: MemorySource(["fw.json": json])).run(["import", "fw.json"])
    #expect(status == 2)
    #expect(console.err.contains("fw.json:1:1: warning: rule ip filter/INPUT/2: fib is not modelled"))
    #expect(
      console.err.contains("1 rule (first at fw.json:1:1) keeps nft expressions the policy language cannot hold yet"))
    #expect(console.out.isEmpty)
  }

  @Test func opaquePartsReadBackFromThePolicyLanguage() throws {
    let text = """
      table ip filter {
        chain OUTPUT {
          type filter hook output priority filter; policy accept;
          iptables "-m owner --uid-owner 0" iptables "-j LOG --log-prefix \\"x y\\""
        }
      }

      """
    var resolver = Resolver(source: MemorySource(["p.policy": text]))
    let (policy, diagnostics) = resolver.resolve(path: "p.policy")
    let rule = try #require(policy?.firewalls.first?.ruleset.tables.first?.chains.first?.rules.first, "\(diagnostics)")
    #expect(rule.matches.first?.kind == .opaque(OpaqueMatch(module: "owner", text: "-m owner --uid-owner 0")))
    #expect(rule.verdict == .opaque(OpaqueTarget(name: "LOG", text: "-j LOG --log-prefix \"x y\"", isTerminal: false)))
  }

  @Test func nftOpaquePartsReadBackCompileToNFTAndAreRefusedByIPTables() throws {
    let text = """
      table ip filter {
        chain INPUT {
          type filter hook input priority filter; policy accept;
          nft "fib daddr . iif type local" tcp dport 22 accept
          meta l4proto tcp nft statement "ct helper set \\"ftp\\""
        }
      }

      """
    var resolver = Resolver(source: MemorySource(["p.policy": text]))
    let (policy, diagnostics) = resolver.resolve(path: "p.policy")
    let ruleset = try #require(policy?.firewalls.first?.ruleset, "\(diagnostics)")
    let rules = ruleset.tables[0].chains[0].rules
    #expect(
      rules[0].matches.first?.kind
        == .opaque(OpaqueMatch(module: "fib", text: "fib daddr . iif type local", syntax: .nft)))
    #expect(
      rules[1].verdict
        == .opaque(OpaqueTarget(name: "ct helper", text: "ct helper set \"ftp\"", isTerminal: false, syntax: .nft)))
    // The nft script carries them verbatim; the policy form wraps them again.
    let script = try NFTScript().compile(ruleset)
    #expect(script.contains("\t\tfib daddr . iif type local tcp dport 22 accept comment \"p.policy:4\"\n"))
    #expect(script.contains("\t\tmeta l4proto tcp ct helper set \"ftp\" comment \"p.policy:5\"\n"))
    let (printed, printDiagnostics) = PolicyPrinter.print(ruleset, header: [])
    #expect(printed?.contains(#"nft statement "ct helper set \"ftp\"""#) == true, "\(printDiagnostics)")
    // iptables cannot say them: an error at the part's own line and column.
    let console = Console.capturing()
    let status = CLI(console: console, source: MemorySource(["p.policy": text])).run([
      "compile", "--backend", "iptables", "p.policy",
    ])
    #expect(status == 2)
    #expect(
      console.err.contains("p.policy:4:5: error: cannot express in iptables: nft match 'fib daddr . iif type local'"))
    #expect(console.out.isEmpty)
  }

  static let nftCorpus: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []
    return names.filter { $0.hasSuffix(".nft") }.sorted()
  }()

  /// An nft listing or script becomes a policy that checks and says what the model lacks; read
  /// back, it prints the tables the import did (the nft parts as written).
  @Test(arguments: nftCorpus)
  func importedNFTPolicyReadsBackLikeTheImport(_ name: String) throws {
    let text = try String(contentsOfFile: Self.corpus + "/" + name, encoding: .utf8)
    let imported = NFTTextImporter(files: .memory([:])).importRuleset(text, file: name)
    #expect(!imported.hasErrors)
    let console = Console.capturing()
    let status = CLI(console: console, source: MemorySource([name: text])).run(["import", name])
    #expect(status == 0, "\(console.err)")
    var resolver = Resolver(source: MemorySource(["imported.policy": console.out]))
    let (policy, diagnostics) = resolver.resolve(path: "imported.policy")
    let firewall = try #require(policy?.firewalls.first, "\(diagnostics.map(\.description))")
    #expect(
      NFTScript().listing(firewall.ruleset, comments: .userOnly)
        == NFTScript().listing(imported.ruleset, comments: .userOnly))
    if name.contains("fw4") {
      #expect(
        console.out.hasPrefix(
          """
          # Imported by firebreak from \(name).
          # 18 rules keep nft parts as written (nft "…", nft statement "…"): compile with --backend nft.
          # 2 rules test iif/oif (an interface's index), which only nft matches: compile with --backend nft.

          """), "\(console.out.prefix(400))")
      #expect(console.out.contains(#"meta l4proto { tcp, udp } nft statement "flow offload @ft""#))
      #expect(console.err.contains("\(name):9:12: warning: flowtable inet fw4 ft is not imported"))
    } else {
      #expect(console.out.hasPrefix("# Imported by firebreak from \(name).\ntable ip nat {\n"))
      #expect(console.err.isEmpty)
    }
  }

  /// An nft part is one part of one rule: text that would end the rule, or close the chain and
  /// table to reach others, is refused at its line, and nothing is compiled.
  @Test(arguments: [
    (#"nft statement "accept; } } delete table inet other; table ip x { chain y { counter""#, "';' outside quotes"),
    (#"nft "meta skuid 0 } }""#, "'}' closes what the part did not open"),
    (#"nft "meta skuid { 0, 1""#, "'{' is never closed"),
    (#"nft "meta skuid 0 # comment""#, "'#' outside quotes"),
  ])
  func nftPartsCannotEscapeTheirRule(_ part: String, _ reason: String) {
    let text = """
      table ip filter {
        chain INPUT {
          type filter hook input priority filter; policy accept;
          \(part)
        }
      }

      """
    let console = Console.capturing()
    let status = CLI(console: console, source: MemorySource(["p.policy": text])).run(["compile", "p.policy"])
    #expect(status == 2)
    #expect(console.err.contains("p.policy:4:") && console.err.contains(reason), "\(console.err)")
    #expect(console.out.isEmpty)
  }

  @Test func nftStatementsAreTerminalWhenAnyWordDecides() {
    #expect(OpaqueTarget.nft(#"log prefix "drop me" drop"#)?.isTerminal == true)
    #expect(OpaqueTarget.nft("jump elsewhere")?.isTerminal == true)
    #expect(OpaqueTarget.nft(#"ct helper set "accept""#)?.isTerminal == false)
    #expect(OpaqueTarget.nft("flow add @ft")?.isTerminal == false)
  }
}
