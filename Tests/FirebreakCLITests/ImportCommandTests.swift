import Foundation
import IPTablesBackend
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
  /// Chain names like `DOS~Pro-t_ect` have no place in a policy (nft refuses them).
  static let unprintable: Set<String> = ["26_parser_stress_test.iptables-save"]

  @Test func corpusIsPresent() { #expect(Self.dumps.count == 5, "\(Self.corpus)") }

  @Test(arguments: dumps)
  func importedPolicyCompilesBackLikeTheImport(_ name: String) throws {
    let path = Self.corpus + "/" + name
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let imported = IPTablesSaveImporter().importRuleset(text, file: path)
    #expect(!imported.hasErrors)
    let console = Console.capturing()
    let status = CLI(console: console).run(["import", path])
    if Self.unprintable.contains(name) {
      #expect(status == 2)
      #expect(console.err.contains("cannot hold"), "\(console.err)")
      return
    }
    #expect(status == 0, "\(console.err)")
    var resolver = Resolver(source: MemorySource(["imported.policy": console.out]))
    let (policy, diagnostics) = resolver.resolve(path: "imported.policy")
    let firewall = try #require(policy?.firewalls.first, "\(diagnostics.map(\.description))")
    let compiler = IPTablesCompiler(originComments: false)
    #expect(try compiler.compile(firewall.ruleset) == compiler.compile(imported.ruleset), "\(name)")
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
    #expect(rule.matches.first?.kind == .opaque(module: "owner", text: "-m owner --uid-owner 0"))
    #expect(rule.verdict == .opaque(OpaqueTarget(name: "LOG", text: "-j LOG --log-prefix \"x y\"", isTerminal: false)))
  }
}
