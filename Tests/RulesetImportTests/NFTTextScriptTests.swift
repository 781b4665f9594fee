import Foundation
import NetfilterModel
import RulesetImport
import Testing

/// `nft -f` scripts: includes, variables, transactions, families and objects kept out.
@Suite struct NFTTextScriptTests {
  func port(_ p: UInt16, _ verdict: Verdict = .accept) -> Rule {
    Rule(matches: [Match(.port(.tcp, .destination, .single(PortRange(p))))], verdict: verdict)
  }

  func rules(_ imported: ImportedRuleset, _ family: Family = .ip, _ table: String = "t", _ chain: String = "c")
    -> [Rule]
  {
    imported.ruleset.table(family, table)?.chain(chain)?.rules ?? []
  }

  // MARK: Include

  @Test func includesAreRelativeToTheIncludingFile() throws {
    let files = NFTIncludeFiles.memory([
      "/etc/fw/main.nft": """
      include "tables.nft"
      table ip t {
        include "rules/chains.nft"
      }
      """,
      "/etc/fw/tables.nft": "table ip t\n",
      "/etc/fw/rules/chains.nft": """
      chain c {
        include "body.nft"
      }
      """,
      "/etc/fw/rules/body.nft": "tcp dport 22 fib daddr . iif type local accept\n",
    ])
    let imported = NFTTextImporter(files: files).importRuleset(
      files.read("/etc/fw/main.nft")!, file: "/etc/fw/main.nft")
    #expect(imported.errors.isEmpty, "\(imported.errors)")
    #expect(
      rules(imported) == [
        Rule(
          matches: [
            Match(.port(.tcp, .destination, .single(PortRange(22)))), opaqueNFT("fib", "fib daddr . iif type local"),
          ],
          verdict: .accept)
      ])
    #expect(rules(imported).first?.location.description == "/etc/fw/rules/body.nft:1:1")
    #expect(
      imported.warnings.map(\.description) == [
        "/etc/fw/rules/body.nft:1:14: warning: fib is not modelled; kept as an opaque match 'fib daddr . iif type local'"
      ])
  }

  @Test func globsIncludeEveryMatchInNameOrderAndMayMatchNothing() throws {
    let files = NFTIncludeFiles.memory([
      "fw/main.nft": """
      table ip t {
        chain c {
          include "conf.d/*.nft"
          include "none.d/*.nft"
          include "conf.d/[ab]?.nft"
        }
      }
      """,
      "fw/conf.d/b.nft": "tcp dport 2 accept\n",
      "fw/conf.d/a.nft": "tcp dport 1 accept\n",
      "fw/conf.d/c.conf": "tcp dport 3 accept\n",
      "fw/conf.d/.hidden.nft": "tcp dport 4 accept\n",
      "fw/conf.d/a1.nft": "tcp dport 5 accept\n",
    ])
    let imported = NFTTextImporter(files: files).importRuleset(files.read("fw/main.nft")!, file: "fw/main.nft")
    #expect(imported.diagnostics.isEmpty, "\(imported.diagnostics)")
    #expect(rules(imported) == [port(1), port(5), port(2), port(5)])
  }

  @Test func aMissingIncludeIsAnErrorAndACycleIsRefused() {
    let files = NFTIncludeFiles.memory([
      "a.nft": "include \"b.nft\"\ntable ip t\n",
      "b.nft": "include \"a.nft\"\n",
    ])
    let missing = NFTTextImporter(files: files).importRuleset("include \"nope.nft\"\ntable ip t\n", file: "m.nft")
    #expect(missing.errors.map(\.description) == ["m.nft:1:9: error: cannot read include file 'nope.nft'"])
    #expect(missing.ruleset.tables.map(\.name) == ["t"])
    let cycle = NFTTextImporter(files: files).importRuleset(files.read("a.nft")!, file: "a.nft")
    #expect(cycle.errors.map(\.description) == ["b.nft:1:9: error: include cycle: 'a.nft' includes itself"])
  }

  @Test func includesFromTheDisk() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fbt-nft-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: directory.appendingPathComponent("conf.d"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try "tcp dport 1 accept\n".write(
      to: directory.appendingPathComponent("conf.d/one.nft"), atomically: true, encoding: .utf8)
    let main = directory.appendingPathComponent("main.nft").path
    let text = "table ip t {\n  chain c {\n    include \"conf.d/*.nft\"\n  }\n}\n"
    let imported = NFTTextImporter().importRuleset(text, file: main)
    #expect(imported.diagnostics.isEmpty, "\(imported.diagnostics)")
    #expect(rules(imported) == [port(1)])
    #expect(rules(imported).first?.location.file == directory.path + "/conf.d/one.nft")
  }

  // MARK: Variables

  @Test func definesExpandScalarsAndSets() throws {
    let text = """
      define lan = { 10.0.0.0/24, 192.168.0.0/24 }
      define web = 80
      define all = { $lan, 172.16.0.0/12 }
      define ifs = { "eth0", "eth1" }
      define local = fib daddr . iif type local
      table ip t {
        define inner = 443
        chain c {
          ip saddr $lan tcp dport $web accept
          ip saddr { $lan, 10.9.9.9 } tcp dport $inner accept
          ip saddr $all iifname $ifs accept
          tcp dport 1 $local accept
        }
      }
      redefine web = 8080
      add rule ip t c tcp dport $web accept
      undefine web
      add rule ip t c tcp dport $web accept
      add rule ip t c tcp dport $inner accept
      define lan = 1.2.3.4
      add rule ip t c ip saddr $x accept
      table ip u
      """
    let imported = NFTTextImporter().importRuleset(text, file: "d.nft")
    let lan = [nftPrefix("10.0.0.0/24"), nftPrefix("192.168.0.0/24")]
    #expect(
      rules(imported) == [
        Rule(
          matches: [
            Match(.address(.v4, .source, .set(lan))), Match(.port(.tcp, .destination, .single(PortRange(80)))),
          ], verdict: .accept),
        Rule(
          matches: [
            Match(.address(.v4, .source, .set(lan + [nftPrefix("10.9.9.9")]))),
            Match(.port(.tcp, .destination, .single(PortRange(443)))),
          ], verdict: .accept),
        Rule(
          matches: [
            Match(.address(.v4, .source, .set(lan + [nftPrefix("172.16.0.0/12")]))),
            Match(.interface(.input, .set([InterfacePattern(name: "eth0"), InterfacePattern(name: "eth1")]))),
          ], verdict: .accept),
        Rule(
          matches: [
            Match(.port(.tcp, .destination, .single(PortRange(1)))), opaqueNFT("fib", "fib daddr . iif type local"),
          ],
          verdict: .accept),
        port(8080),
      ])
    // Expanded tokens are located where the variable is used.
    #expect(
      imported.warnings.map(\.description) == [
        "d.nft:12:17: warning: fib is not modelled; kept as an opaque match 'fib daddr . iif type local'"
      ])
    #expect(
      imported.errors.map(\.description) == [
        "d.nft:18:27: error: undefined variable '$web'",
        "d.nft:19:27: error: undefined variable '$inner'",
        "d.nft:20:8: error: 'lan' is already defined in this scope; use redefine",
        "d.nft:21:26: error: undefined variable '$x'",
      ])
    #expect(imported.ruleset.table(.ip, "u") != nil)
  }

  // MARK: Transactions

  /// `nft -a list ruleset` output: the handles in its comments are the ones commands name.
  static let listingWithHandles = """
    table ip t { # handle 3
    \tchain c { # handle 1
    \t\ttype filter hook input priority filter; policy accept;
    \t\ttcp dport 1 accept # handle 7
    \t\ttcp dport 2 accept # handle 8
    \t\ttcp dport 3 accept # handle 9
    \t}
    }

    """

  @Test func rulePositionsByHandleAndIndex() throws {
    let script =
      Self.listingWithHandles + """
        add rule ip t c position 7 tcp dport 10 accept
        insert rule ip t c handle 9 tcp dport 11 accept
        replace rule ip t c handle 8 tcp dport 12 drop
        delete rule ip t c handle 7
        insert rule ip t c tcp dport 13 accept
        add rule ip t c index 0 tcp dport 14 accept
        insert rule ip t c index 2 tcp dport 15 accept
        add rule ip t c tcp dport 16 accept
        add rule ip t c handle 99 tcp dport 17 accept
        delete rule ip t c handle 98
        """
    let imported = NFTTextImporter().importRuleset(script, file: "h.nft")
    #expect(
      rules(imported) == [
        port(13), port(14), port(15), port(10), port(12, .drop), port(11), port(3), port(16),
      ])
    #expect(
      imported.errors.map(\.description) == [
        "h.nft:17:17: error: no rule with handle 99 in chain ip t c",
        "h.nft:18:20: error: no rule with handle 98 in chain ip t c",
      ])
  }

  /// Without handle comments the handles are counted as the kernel gives them: per table, chains
  /// first, then objects, sets, and the rules of a block.
  @Test func handlesAreCountedAsTheKernelCountsThem() throws {
    let script = """
      table ip t {
        counter c0 {
        }
        chain c {
          tcp dport 1 accept
          tcp dport 2 accept
        }
        set s { type ipv4_addr; }
        chain d {
          tcp dport 3 accept
        }
      }
      add rule ip t c tcp dport 4 accept
      delete rule ip t c handle 6
      insert rule ip t c handle 8 tcp dport 5 accept
      """
    let imported = NFTTextImporter().importRuleset(script, file: "k.nft")
    #expect(imported.errors.isEmpty, "\(imported.errors)")
    #expect(rules(imported) == [port(1), port(5), port(4)])
  }

  @Test func tablesChainsAndRulesetFlushedDeletedRenamed() throws {
    let script = """
      table ip t {
        chain c {
          tcp dport 1 accept
        }
        chain d {
          tcp dport 2 accept
        }
        chain e {
        }
      }
      table ip gone {
      }
      flush chain ip t c
      add rule ip t c tcp dport 3 accept
      rename chain ip t d dd
      delete chain ip t e
      delete table ip gone
      create table ip t
      create chain ip t c
      add chain ip t f { type filter hook output priority 0; policy drop; }
      add chain ip t f { type filter hook output priority 0; policy accept; }
      delete table ip nothere
      """
    let imported = NFTTextImporter().importRuleset(script, file: "f.nft")
    let table = try #require(imported.ruleset.table(.ip, "t"))
    #expect(imported.ruleset.tables.map(\.name) == ["t"])
    #expect(table.chains.map(\.name) == ["c", "dd", "f"])
    #expect(table.chain("c")?.rules == [port(3)])
    #expect(table.chain("dd")?.rules == [port(2)])
    // `add chain` of an existing base chain updates its policy, as the kernel does.
    #expect(table.chain("f")?.base?.policy == .accept)
    #expect(
      imported.errors.map(\.description) == [
        "f.nft:18:17: error: table ip t already exists (create refuses; add does not)",
        "f.nft:19:19: error: chain c already exists in table ip t (create refuses; add does not)",
        "f.nft:22:17: error: table ip nothere does not exist",
      ])
    let flushed = NFTTextImporter().importRuleset(script + "\nflush table ip t\n", file: "f.nft")
    #expect(flushed.ruleset.table(.ip, "t")?.chains.allSatisfy { $0.rules.isEmpty } == true)
    #expect(flushed.ruleset.table(.ip, "t")?.chains.count == 3)
    let empty = NFTTextImporter().importRuleset("flush ruleset\n" + script + "\nflush ruleset\n", file: "f.nft")
    #expect(empty.ruleset.tables.isEmpty)
  }

  @Test func setsAndElements() throws {
    let script = """
      table inet t {
        set v4 {
          type ipv4_addr
          flags interval
          elements = { 10.0.0.0/8, 192.0.2.1-192.0.2.9,
                       198.51.100.7 }
        }
        set ports { typeof tcp dport; elements = { 22, 8000-8080 }; }
        set ifs { type ifname; elements = { "eth0", "veth*" }; }
        set protos { typeof meta l4proto; elements = { tcp, 17 }; }
        set macs { type ether_addr; elements = { 00:11:22:33:44:55 }; }
        set v6 { typeof ip6 saddr; }
        set pairs { type ipv4_addr . inet_service; }
        set bad { type ipv4_addr; elements = { fe80::1 }; }
        chain c {
          ip saddr @v4 tcp dport @ports iifname @ifs meta l4proto @protos ether saddr @macs accept
          ip saddr . tcp dport @pairs accept
          ip saddr @bad accept
        }
      }
      add element inet t v6 { 2001:db8::/32, ::1 }
      delete element inet t v4 { 198.51.100.7 }
      add set inet t later { type inet_service; }
      add element inet t later { 53 }
      flush set inet t ports
      delete set inet t macs
      add element inet t v4 { nonsense }
      """
    let imported = NFTTextImporter().importRuleset(script, file: "s.nft")
    let table = try #require(imported.ruleset.table(.inet, "t"))
    #expect(
      table.sets == [
        NamedSet(
          name: "v4", type: .ipv4Address,
          elements: [
            .address(nftPrefix("10.0.0.0/8")), .address(.range(IPAddress("192.0.2.1")!, IPAddress("192.0.2.9")!)),
          ]),
        NamedSet(name: "ports", type: .inetService, elements: []),
        NamedSet(
          name: "ifs", type: .interfaceName,
          elements: [
            .interface(InterfacePattern(name: "eth0")), .interface(InterfacePattern(name: "veth", isWildcard: true)),
          ]),
        NamedSet(name: "protos", type: .inetProto, elements: [.proto(6), .proto(17)]),
        NamedSet(
          name: "v6", type: .ipv6Address, elements: [.address(nftPrefix("2001:db8::/32")), .address(nftPrefix("::1"))]),
        NamedSet(name: "later", type: .inetService, elements: [.port(PortRange(53))]),
      ])
    #expect(
      table.chain("c")?.rules.first?.matches == [
        Match(.address(.v4, .source, .named("v4"))), Match(.port(.tcp, .destination, .named("ports"))),
        Match(.interface(.input, .named("ifs"))), Match(.l4proto(.metaL4proto, .named("protos"))),
        Match(.etherSource(.named("macs"))),
      ])
    // A set the model does not hold keeps the rules that use it as written.
    #expect(
      table.chain("c")?.rules.dropFirst().map(\.matches) == [
        [opaqueNFT("ip saddr", "ip saddr . tcp dport @pairs")], [opaqueNFT("ip saddr", "ip saddr @bad")],
      ])
    #expect(
      imported.diagnostics.map(\.description) == [
        "s.nft:13:7: warning: set inet t pairs is not imported: its type 'ipv4_addr . inet_service' is not modelled (rules that use it keep it as written)",
        "s.nft:14:42: warning: set inet t bad is not imported: element 'fe80::1' is not modelled as a ipv4_addr (rules that use it keep it as written)",
        "s.nft:17:5: warning: ip saddr is not modelled; kept as an opaque match 'ip saddr . tcp dport @pairs'",
        "s.nft:18:5: warning: ip saddr is not modelled; kept as an opaque match 'ip saddr @bad'",
        "s.nft:27:25: error: element 'nonsense' is not a ipv4_addr",
      ])
  }

  // MARK: Families and objects

  @Test func otherFamiliesAreSkippedWithAWarning() {
    let script = """
      table bridge b {
        chain fw {
          type filter hook forward priority 0; policy accept;
          ether type arp drop
        }
      }
      table netdev n
      add chain netdev n ingress { type filter hook ingress device "eth0" priority 0; }
      add rule bridge b fw accept
      table arp a {
      }
      table ip t
      """
    let imported = NFTTextImporter().importRuleset(script, file: "b.nft")
    #expect(imported.ruleset.tables.map(\.name) == ["t"])
    #expect(
      imported.diagnostics.map(\.description) == [
        "b.nft:1:14: warning: table bridge b is skipped: only ip, ip6 and inet tables are imported",
        "b.nft:7:14: warning: table netdev n is skipped: only ip, ip6 and inet tables are imported",
        "b.nft:10:11: warning: table arp a is skipped: only ip, ip6 and inet tables are imported",
      ])
  }

  @Test func flowtablesAndStatefulObjectsAreKeptOutWithAWarningEach() {
    let script = """
      table inet t {
        flowtable ft {
          hook ingress priority 0; devices = { "eth0", "eth1" };
          counter;
        }
        ct helper ftp {
          type "ftp" protocol tcp;
        }
        counter c1 {
          packets 0 bytes 0
        }
        quota q1 {
          over 10 mbytes
        }
        limit l1 {
          rate 10/second
        }
        ct timeout t1 {
          protocol tcp; policy = { established: 100 };
        }
        chain c {
          meta l4proto tcp flow add @ft
        }
      }
      add counter inet t c2
      add quota inet t q2 { 25 mbytes }
      list ruleset
      """
    let imported = NFTTextImporter().importRuleset(script, file: "o.nft")
    #expect(
      imported.diagnostics.map(\.description) == [
        "o.nft:2:13: warning: flowtable inet t ft is not imported: the model has no flowtables (rules that use it keep 'flow add' as written)",
        "o.nft:6:13: warning: ct helper inet t ftp is not imported: the model has no ct helper objects",
        "o.nft:9:11: warning: counter inet t c1 is not imported: the model has no counter objects",
        "o.nft:12:9: warning: quota inet t q1 is not imported: the model has no quota objects",
        "o.nft:15:9: warning: limit inet t l1 is not imported: the model has no limit objects",
        "o.nft:18:14: warning: ct timeout inet t t1 is not imported: the model has no ct timeout objects",
        "o.nft:22:22: warning: flow is not modelled; kept as an opaque non-terminal target 'flow add @ft'",
        "o.nft:25:20: warning: counter inet t c2 is not imported: the model has no counter objects",
        "o.nft:26:18: warning: quota inet t q2 is not imported: the model has no quota objects",
        "o.nft:27:1: warning: 'list' is ignored: only commands that change the ruleset are imported",
      ])
  }

  @Test func aDormantTableIsNotImported() {
    let imported = NFTTextImporter().importRuleset(
      "table ip t {\n  flags dormant\n  chain c {\n    drop\n  }\n}\ntable ip u\n", file: "z.nft")
    #expect(imported.ruleset.tables.map(\.name) == ["u"])
    #expect(
      imported.warnings.map(\.description) == [
        "z.nft:2:3: warning: table ip t is dormant: the kernel does not evaluate it, so it is not imported"
      ])
  }

  @Test func theFormatOfScriptsAndListingsIsDetected() {
    for text in [
      "#!/usr/sbin/nft -f\nflush ruleset\n", "# fw\n\ninclude \"/etc/nft.d/*.nft\"\n", "add table inet fw\n",
      "table ip filter {\n}\n", "define lan = 10.0.0.0/8\n", "  # comment\n\ttable inet t {\n}\n",
      "flush table ip filter\n",
    ] {
      #expect(RulesetFormat.detect(text) == .nft, "\(text)")
    }
    #expect(
      RulesetFormat.detect("# Generated by iptables-save\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n") == .iptablesSave)
    #expect(RulesetFormat.detect("{\"nftables\": []}") == .nftJSON)
    #expect(RulesetFormat.detect("hello\n") == nil)
  }
}
