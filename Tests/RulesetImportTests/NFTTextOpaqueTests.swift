import NetfilterModel
import RulesetImport
import Testing
import VerdictEngine

/// What the model cannot express stays as its nft text, placed so the rule keeps its meaning,
/// with a warning at its place; verdict maps on modelled keys become one rule per element.
@Suite struct NFTTextOpaqueTests {
  @Test(arguments: [
    ("fib daddr . iif type local accept", "fib", "fib daddr . iif type local"),
    ("meta skuid 0 accept", "meta skuid", "meta skuid 0"),
    ("ct status dnat accept", "ct status", "ct status dnat"),
    (#"ct helper "ftp" accept"#, "ct helper", #"ct helper "ftp""#),
    ("meta iiftype loopback accept", "meta iiftype", "meta iiftype loopback"),
    ("meta skuid 0 accept", "meta skuid", "meta skuid 0"),
    ("quota over 25 mbytes accept", "quota", "quota over 25 mbytes"),
    ("limit name \"l\" accept", "limit", "limit name \"l\""),
    ("ct count over 10 accept", "ct count", "ct count over 10"),
    (
      "icmpv6 type . icmpv6 code { 130 . 0, 131 . 0 } accept", "icmpv6 type",
      "icmpv6 type . icmpv6 code { 130 . 0, 131 . 0 }"
    ),
    ("jhash ip saddr mod 2 seed 0x1 == 0 accept", "jhash", "jhash ip saddr mod 2 seed 0x1 == 0"),
    ("numgen random mod 2 0 accept", "numgen", "numgen random mod 2 0"),
    ("@nh,16,8 0x5 accept", "@nh,16,8", "@nh,16,8 0x5"),
    ("tcp option sack-perm exists accept", "tcp option", "tcp option sack-perm exists"),
    ("ip dscp cs1 accept", "ip dscp", "ip dscp cs1"),
    ("ip saddr & 0.0.0.255 == 0.0.0.1 accept", "ip saddr", "ip saddr & 0.0.0.255 == 0.0.0.1"),
    ("tcp dport { 22 } . 1 accept", "tcp dport", "tcp dport { 22 } . 1"),
  ])
  func unmodelledMatchesStayAsWritten(_ rule: String, _ module: String, _ text: String) throws {
    let (imported, _) = try importNFTRule(rule, family: "inet")
    #expect(imported == Rule(matches: [opaqueNFT(module, text)], verdict: .accept))
    let (_, result) = try importNFTRule(rule, family: "inet")
    #expect(
      result.warnings.map(\.description) == [
        "r.nft:4:5: warning: \(module) is not modelled; kept as an opaque match '\(text)'"
      ])
  }

  @Test(arguments: [
    ("tcp option maxseg size set rt mtu", "tcp option", false),
    (#"ct helper set "ftp""#, "ct helper", false),
    ("notrack", "notrack", false),
    ("ip dscp set cs1", "ip dscp", false),
    ("meta mark set numgen inc mod 2", "meta mark", false),
    ("ct mark set mark | 0x10", "ct mark", false),
    ("log group 2", "log", false),
    ("log prefix \"x\" level audit", "log", false),
    ("counter name \"c\"", "counter", false),
    ("dup to 10.0.0.1 device \"eth0\"", "dup", false),
    ("snat to 1.2.3.4 persistent", "snat", true),
    ("snat to ip saddr map { 10.0.0.1 : 1.2.3.4 }", "snat", true),
    ("masquerade random", "masquerade", true),
    ("redirect to :8080 random", "redirect", true),
    ("queue num 1 bypass", "queue", true),
    ("reject with icmp type 42", "reject", true),
  ])
  func unmodelledStatementsInTheVerdictsPlaceAreOpaqueTargets(_ text: String, _ name: String, _ terminal: Bool) throws {
    let (rule, imported) = try importNFTRule(text, family: "inet")
    #expect(
      rule == Rule(verdict: .opaque(OpaqueTarget(name: name, text: text, isTerminal: terminal, syntax: .nft))))
    let kind = terminal ? "an opaque target" : "an opaque non-terminal target"
    #expect(
      imported.warnings.map(\.description) == [
        "r.nft:4:5: warning: \(name) is not modelled; kept as \(kind) '\(text)'"
      ])
  }

  @Test func aStatementAfterMatchesKeepsTheMatchesAndWarnsAtItsColumn() throws {
    let (rule, imported) = try importNFTRule("meta l4proto { tcp, udp } flow add @ft")
    #expect(
      rule
        == Rule(
          matches: [Match(.l4proto(.metaL4proto, .set([6, 17])))],
          verdict: .opaque(OpaqueTarget(name: "flow", text: "flow add @ft", isTerminal: false, syntax: .nft))))
    #expect(
      imported.warnings.map(\.description) == [
        "r.nft:4:31: warning: flow is not modelled; kept as an opaque non-terminal target 'flow add @ft'"
      ])
  }

  /// An unknown statement followed by a verdict (or another unknown statement) cannot be the
  /// verdict: it stays in its place as an opaque match, so the engine answers `unknown` there.
  @Test func unknownStatementsBeforeTheEndAreOpaqueMatches() throws {
    let (markThenAccept, _) = try importNFTRule("tcp dport 22 ct zone set 1 accept")
    #expect(
      markThenAccept
        == Rule(
          matches: [Match(.port(.tcp, .destination, .single(PortRange(22)))), opaqueNFT("ct zone", "ct zone set 1")],
          verdict: .accept))
    let (two, imported) = try importNFTRule(#"ct helper set "ftp" notrack"#)
    #expect(
      two
        == Rule(
          matches: [opaqueNFT("ct helper", #"ct helper set "ftp""#)],
          verdict: .opaque(OpaqueTarget(name: "notrack", text: "notrack", isTerminal: false, syntax: .nft))))
    #expect(
      imported.warnings.map(\.description) == [
        #"r.nft:4:5: warning: ct helper is not modelled; kept as an opaque match 'ct helper set "ftp"'"#,
        "r.nft:4:25: warning: notrack is not modelled; kept as an opaque non-terminal target 'notrack'",
      ])
    // Rewriting a field the model tests would mislead later rules: an opaque match, even alone.
    let (rewrite, _) = try importNFTRule("ip daddr set 10.0.0.1")
    #expect(rewrite == Rule(matches: [opaqueNFT("ip daddr", "ip daddr set 10.0.0.1")]))
    // So is what may end the rule early (a dynamic set with a limit, a quota).
    let text = """
      table ip t {
        set s { type ipv4_addr; flags dynamic; }
        chain c {
          tcp dport 22 add @s { ip saddr limit rate over 5/minute } drop
        }
      }
      """
    let dynamic = NFTTextImporter().importRuleset(text, file: "d.nft")
    #expect(
      dynamic.ruleset.tables.first?.chain("c")?.rules
        == [
          Rule(
            matches: [
              Match(.port(.tcp, .destination, .single(PortRange(22)))),
              opaqueNFT("add @s", "add @s { ip saddr limit rate over 5/minute }"),
            ], verdict: .drop)
        ])
    #expect(
      dynamic.warnings.map(\.description) == [
        "d.nft:2:7: warning: set ip t s has flags dynamic: its elements change at run time; the model holds the ones listed",
        "d.nft:4:18: warning: add @s is not modelled; kept as an opaque match 'add @s { ip saddr limit rate over 5/minute }'",
      ])
  }

  @Test func statementsBeforeAMatch() throws {
    // A log before a match logs packets the match then refuses: it stays where it is.
    let (log, logImport) = try importNFTRule(#"log prefix "x" ip saddr 10.0.0.5 drop"#)
    #expect(
      log
        == Rule(
          matches: [
            opaqueNFT("log", #"log prefix "x""#), Match(.address(.v4, .source, .single(nftPrefix("10.0.0.5")))),
          ],
          verdict: .drop))
    #expect(
      logImport.warnings.map(\.description) == [
        #"r.nft:4:5: warning: log before a match is kept as an opaque match 'log prefix "x"' (the model runs statements after the matches)"#
      ])
    // A counter changes nothing but its count: it moves after the matches.
    let (counter, counterImport) = try importNFTRule("counter ip saddr 10.0.0.5 accept")
    #expect(
      counter
        == Rule(
          matches: [Match(.address(.v4, .source, .single(nftPrefix("10.0.0.5"))))], statements: [Statement(.counter)],
          verdict: .accept))
    #expect(
      counterImport.warnings.map(\.description) == [
        "r.nft:4:5: warning: counter before a match is moved after the rule's matches (it now counts only the packets that match)"
      ])
  }

  @Test func verdictMapsOnModelledKeysBecomeOneRulePerElement() throws {
    let (rules, imported) = try importNFTRules(
      #"ct state vmap { established : accept, related : accept, invalid : drop } comment "flows""#)
    #expect(
      rules == [
        Rule(matches: [Match(.ctState([.established]))], verdict: .accept, comment: "flows"),
        Rule(matches: [Match(.ctState([.related]))], verdict: .accept, comment: "flows"),
        Rule(matches: [Match(.ctState([.invalid]))], verdict: .drop, comment: "flows"),
      ])
    #expect(rules.map(\.verdictLocation.description) == ["r.nft:4:21", "r.nft:4:43", "r.nft:4:61"])
    #expect(
      imported.warnings.map(\.description) == [
        "r.nft:4:5: warning: verdict map 'ct state vmap { established : accept, related : accept, invalid : drop }' is expanded into 3 rules, one per element (its keys are disjoint)"
      ])
    let (ports, _) = try importNFTRules("iifname \"eth0\" counter tcp dport vmap { 22 : jump user, 80-90 : goto user }")
    let eth0 = Match(.interface(.input, .single(InterfacePattern(name: "eth0"))))
    #expect(
      ports == [
        Rule(
          matches: [eth0, Match(.port(.tcp, .destination, .single(PortRange(22))))], statements: [Statement(.counter)],
          verdict: .jump(chain: "user")),
        Rule(
          matches: [eth0, Match(.port(.tcp, .destination, .single(PortRange(80, 90))))],
          statements: [Statement(.counter)], verdict: .goto(chain: "user")),
      ])
    // A mark key with a jump stays whole: the called chain may set the mark, and the kernel
    // does not look up the map again when the chain returns.
    let (marks, markImport) = try importNFTRules("meta mark vmap { 0x1 : jump user, 0x2 : drop }")
    #expect(marks.count == 1)
    if case .opaque(let target)? = marks.first?.verdict {
      #expect(target.text == "meta mark vmap { 0x1 : jump user, 0x2 : drop }" && target.isTerminal)
    } else {
      Issue.record("a mark verdict map with a jump is expanded: \(marks)")
    }
    #expect(markImport.warnings.map(\.message).contains { $0.contains("verdict map is not modelled") })
    // A key compares exactly: `syn` is the flags being exactly SYN.
    let (flags, _) = try importNFTRules("tcp flags vmap { syn : drop }")
    #expect(flags == [Rule(matches: [Match(.tcpFlags(value: .syn, mask: TCPFlags(rawValue: 0xff)))], verdict: .drop)])
  }

  @Test(arguments: [
    // Repeating the log or the limit per element would change what they do.
    (#"log prefix "x" ct state vmap { established : accept }"#, "ct state vmap { established : accept }"),
    ("limit rate 5/second ct state vmap { established : accept }", "ct state vmap { established : accept }"),
    ("numgen random mod 2 0 ct state vmap { established : accept }", "ct state vmap { established : accept }"),
    // Keys the model cannot test, verdicts it lacks, named maps.
    ("ip saddr . tcp dport vmap { 10.0.0.1 . 22 : accept }", "ip saddr . tcp dport vmap { 10.0.0.1 . 22 : accept }"),
    ("ct status vmap { dnat : accept }", "ct status vmap { dnat : accept }"),
    ("meta mark & 0xff vmap { 1 : accept }", "meta mark & 0xff vmap { 1 : accept }"),
    ("ip saddr vmap @m", "ip saddr vmap @m"),
  ])
  func otherVerdictMapsAreOpaqueTerminalTargets(_ rule: String, _ text: String) throws {
    let source = """
      table ip filter {
        map m { type ipv4_addr : verdict; }
        chain input {
          \(rule)
        }
      }
      """
    let imported = NFTTextImporter().importRuleset(source, file: "r.nft")
    #expect(imported.errors.isEmpty, "\(imported.errors)")
    let imported1 = try #require(imported.ruleset.tables.first?.chain("input")?.rules)
    #expect(imported1.count == 1)
    let target = try #require(imported1.first?.verdict)
    #expect(target == .opaque(OpaqueTarget.nft(text)!))
    #expect(target.isTerminal)
  }

  @Test func warningsAndErrorsNameTheirFileLineAndColumn() throws {
    let text = """
      table inet t {
        chain c {
          type filter hook input priority 0; policy accept;
          tcp dport 22 fib daddr . iif type local accept
          ip saddr 10.0.0.1 frobnicate 3 accept
          tcp dport { 22, 80 accept }
          udp dport 53 accept
          jump nowhere
          tcp dport vmap { 1 : goto elsewhere }
        }
      }
      add rule inet t missing accept
      add rule inet nosuch c accept
      """
    let imported = NFTTextImporter().importRuleset(text, file: "e.nft")
    #expect(
      imported.diagnostics.map(\.description) == [
        "e.nft:4:18: warning: fib is not modelled; kept as an opaque match 'fib daddr . iif type local'",
        "e.nft:5:23: error: unknown match, statement or verdict 'frobnicate'",
        "e.nft:6:24: error: expected ',' or '}' in the set, found 'accept'",
        "e.nft:9:5: warning: verdict map 'tcp dport vmap { 1 : goto elsewhere }' is expanded into 1 rule, one per element (its keys are disjoint)",
        "e.nft:12:17: error: chain missing does not exist in table inet t",
        "e.nft:13:15: error: table inet nosuch does not exist",
        "e.nft:8:10: error: jump to chain 'nowhere', which table inet t does not have",
        "e.nft:9:31: error: jump to chain 'elsewhere', which table inet t does not have",
      ])
    // The rest of the file still imports.
    let rules = try #require(imported.ruleset.table(.inet, "t")?.chain("c")?.rules)
    #expect(rules.count == 4)
    #expect(rules[1] == Rule(matches: [Match(.port(.udp, .destination, .single(PortRange(53))))], verdict: .accept))
  }

  @Test func syntaxErrorsAreLocated() {
    func errors(_ text: String) -> [String] {
      NFTTextImporter().importRuleset(text, file: "s.nft").errors.map(\.description)
    }
    #expect(
      errors("table ip t {\n  chain c {\n") == [
        "s.nft:2:11: error: expected '}' to close this chain block",
        "s.nft:1:12: error: expected '}' to close this table block",
      ])
    #expect(
      errors("table ip t {\n  chain c {\n    iifname \"eth0 accept\n  }\n}\n") == [
        "s.nft:3:13: error: unterminated string"
      ])
    #expect(errors("frobnicate ip t\n") == ["s.nft:1:1: error: unknown command 'frobnicate'"])
    #expect(
      errors("table ip t {\n  chain c { type filter hook sideways priority 0; }\n}\n") == [
        "s.nft:2:30: error: unknown hook 'sideways' (prerouting, input, forward, output, postrouting or ingress)"
      ])
    #expect(
      errors("table ip t {\n  chain c { type filter hook input priority banana; }\n}\n") == [
        "s.nft:2:45: error: bad priority 'banana': a number or raw, mangle, dstnat, filter, security, srcnat (± a number)"
      ])
    #expect(
      errors("table ip t {\n  chain c {\n    ip saddr @nosuch accept\n  }\n}\n") == [
        "s.nft:3:14: error: set @nosuch does not exist in this table"
      ])
    #expect(
      errors("table ip t {\n  chain c {\n    ip saddr vmap @nosuch\n  }\n}\n") == [
        "s.nft:3:19: error: set @nosuch does not exist in this table"
      ])
    #expect(
      errors("table ip t {\n  chain c {\n    tcp dport 22 ) accept\n    accept\n  }\n}\n") == [
        "s.nft:3:18: error: unexpected ')'"
      ])
    // A stray token where a name belongs is skipped, not read forever.
    #expect(
      errors("table ip t {\n  chain )x {\n  }\n}\n").first == "s.nft:2:9: error: expected a chain name, found ')'")
    #expect(
      errors("table ip t {\n  chain c {\n    accept drop\n  }\n}\n") == [
        "s.nft:3:12: error: unexpected 'drop' after 'accept': a verdict ends the rule"
      ])
  }

  /// The engine follows what it knows of the opaque statements: `notrack` untracks the packet, a
  /// mark it cannot compute makes later mark tests unknown, a terminal one decides `unknown`.
  @Test func theEngineOnImportedOpaqueParts() throws {
    let text = """
      table ip raw {
        chain pre {
          type filter hook prerouting priority raw; policy accept;
          udp dport 53 notrack
          tcp dport 80 meta mark set numgen inc mod 2
          tcp dport 81 meta mark set 0x1
          udp dport 99 queue num 1
        }
      }
      table ip filter {
        chain input {
          type filter hook input priority filter; policy drop;
          ct state untracked accept
          meta mark 0x1 accept
        }
      }
      """
    let imported = NFTTextImporter().importRuleset(text, file: "t.nft")
    #expect(imported.errors.isEmpty)
    let simulator = Simulator(ruleset: imported.ruleset)
    func run(_ proto: String, _ port: Int) throws -> Simulation {
      let words = "--hook input --iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --proto \(proto) --sport 1 --dport \(port)"
      return try simulator.simulate(PacketOptions.request(words: words.split(separator: " ").map(String.init)))
    }
    let dns = try run("udp", 53)
    #expect(dns.verdict == .accept)
    #expect(dns.decidedBy?.table == "filter" && dns.decidedBy?.index == 0)
    #expect(try run("udp", 54).verdict == .drop)
    let numgen = try run("tcp", 80)
    #expect(numgen.verdict == .unknown)
    #expect(numgen.reason?.contains("changed by target meta mark") == true, "\(numgen.reason ?? "")")
    let marked = try run("tcp", 81)
    #expect(marked.verdict == .accept && marked.decidedBy?.index == 1)
    let queued = try run("udp", 99)
    #expect(queued.verdict == .unknown)
    #expect(queued.reason?.contains("target queue is not modelled and decides the packet's fate") == true)
  }
}
