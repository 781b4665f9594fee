import CIPTC

extension EntryEncoder {
  /// The matches of the conntrack, socket, routing and header families, and the stateful ones.
  func moreMatch(_ match: IPTMatch, into writer: inout EntryWriter) {
    switch match {
    case .state(let states):
      writer.record(name: "conntrack", revision: 3, xt_conntrack_mtinfo3.self) { info in
        info.match_flags = UInt16(XT_CONNTRACK_STATE | XT_CONNTRACK_STATE_ALIAS)
        info.invert_flags = states.negated ? UInt16(XT_CONNTRACK_STATE) : 0
        info.state_mask = UInt16(states.value)
      }
    case .owner(let owner):
      writer.record(name: "owner", revision: 1, xt_owner_match_info.self) { info in
        var present: UInt32 = 0
        var inverse: UInt32 = 0
        if let uid = owner.uid {
          (info.uid_min, info.uid_max) = (uid.value.lowerBound, uid.value.upperBound)
          present |= UInt32(XT_OWNER_UID)
          if uid.negated { inverse |= UInt32(XT_OWNER_UID) }
        }
        if let gid = owner.gid {
          (info.gid_min, info.gid_max) = (gid.value.lowerBound, gid.value.upperBound)
          present |= UInt32(XT_OWNER_GID)
          if gid.negated { inverse |= UInt32(XT_OWNER_GID) }
        }
        if owner.supplementaryGroups { present |= UInt32(XT_OWNER_SUPPL_GROUPS) }
        if let exists = owner.socketExists {
          present |= UInt32(XT_OWNER_SOCKET)
          if !exists { inverse |= UInt32(XT_OWNER_SOCKET) }
        }
        info.match = UInt8(present)
        info.invert = UInt8(inverse)
      }
    case .connmark(let mark):
      writer.record(name: "connmark", revision: 1, xt_connmark_mtinfo1.self) { info in
        info.mark = mark.value.value
        info.mask = mark.value.mask
        info.invert = mark.negated ? 1 : 0
      }
    case .addrtype(let types):
      writer.record(name: "addrtype", revision: 1, xt_addrtype_info_v1.self) { info in
        var flags: UInt32 = 0
        if let source = types.source {
          info.source = source.value
          if source.negated { flags |= UInt32(XT_ADDRTYPE_INVERT_SOURCE) }
        }
        if let destination = types.destination {
          info.dest = destination.value
          if destination.negated { flags |= UInt32(XT_ADDRTYPE_INVERT_DEST) }
        }
        if types.limitInput { flags |= UInt32(XT_ADDRTYPE_LIMIT_IFACE_IN) }
        if types.limitOutput { flags |= UInt32(XT_ADDRTYPE_LIMIT_IFACE_OUT) }
        info.flags = flags
      }
    case .pkttype(let type):
      writer.record(name: "pkttype", revision: 0, xt_pkttype_info.self) { info in
        info.pkttype = type.value
        info.invert = type.negated ? 1 : 0
      }
    case .length(let length):
      writer.record(name: "length", revision: 0, xt_length_info.self) { info in
        (info.min, info.max) = (length.value.lowerBound, length.value.upperBound)
        info.invert = length.negated ? 1 : 0
      }
    case .hopLimit(let test):
      // struct ipt_ttl_info / ip6t_hl_info: mode, value.
      writer.record(name: family == .ipv4 ? "ttl" : "hl", revision: 0, (UInt8, UInt8).self) {
        $0 = (test.mode, test.value)
      }
    case .tos(let tos):
      writer.record(name: "tos", revision: 1, xt_tos_match_info.self) { info in
        (info.tos_value, info.tos_mask) = (tos.value.value, tos.value.mask)
        info.invert = tos.negated ? 1 : 0
      }
    case .dscp(let dscp):
      writer.record(name: "dscp", revision: 0, xt_dscp_info.self) { info in
        info.dscp = dscp.value
        info.invert = dscp.negated ? 1 : 0
      }
    case .statistic(let statistic):
      writer.record(name: "statistic", revision: 0, xt_statistic_info.self) { info in
        info.flags = statistic.negated ? UInt16(XT_STATISTIC_INVERT.rawValue) : 0
        switch statistic.mode {
        case .random(let probability):
          info.mode = UInt16(XT_STATISTIC_MODE_RANDOM.rawValue)
          info.u.random.probability = probability
        case .nth(let every, let packet):
          info.mode = UInt16(XT_STATISTIC_MODE_NTH.rawValue)
          info.u.nth.every = every - 1
          info.u.nth.packet = packet
        }
        // libxt_statistic's final check sets count in both modes; in random mode `every`
        // overlays the probability.
        info.u.nth.count = info.u.nth.every &- info.u.nth.packet
      }
    case .recent(let recent):
      writer.record(name: "recent", revision: 1, xt_recent_mtinfo_v1.self) { info in
        info.seconds = recent.seconds
        info.hit_count = recent.hitCount
        var check = recent.command.rawValue
        if recent.ttl { check |= UInt8(XT_RECENT_TTL) }
        if recent.reap { check |= UInt8(XT_RECENT_REAP) }
        info.check_set = check
        info.invert = recent.negated ? 1 : 0
        // libxt_recent writes DEFAULT first and the name over it with one NUL: a shorter name
        // leaves the rest of DEFAULT behind it, and the kernel keeps those bytes.
        var name = Array("DEFAULT".utf8)
        let given = Array(recent.name.utf8)
        name.replaceSubrange(0..<min(given.count, name.count), with: given)
        if given.count < name.count { name[given.count] = 0 }
        Bytes.fill(&info.name, with: name)
        info.side = recent.destination ? UInt8(XT_RECENT_DEST) : UInt8(XT_RECENT_SOURCE)
        Bytes.fill(&info.mask, with: recent.mask ?? [UInt8](repeating: 0xFF, count: 16))
      }
    case .hashlimit(let limit):
      writer.record(name: "hashlimit", revision: 3, xt_hashlimit_mtinfo3.self) { info in
        Bytes.fill(&info.name, string: limit.name)
        info.cfg.avg = limit.average
        info.cfg.burst = limit.burst
        info.cfg.mode = limit.mode
        info.cfg.size = limit.size
        info.cfg.max = limit.max
        info.cfg.gc_interval = limit.gcInterval
        info.cfg.expire = limit.expire
        info.cfg.interval = limit.interval
        info.cfg.srcmask = limit.sourceMask
        info.cfg.dstmask = limit.destinationMask
      }
    default:
      preconditionFailure("EntryEncoder.match handles \(match)")
    }
  }
}
