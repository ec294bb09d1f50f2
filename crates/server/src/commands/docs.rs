//! COMMAND DOCS beyond the summary, since, group and complexity every
//! command carries (`Command::doc`): the argument tree, history, doc flags
//! and deprecation, as Valkey prints them. valkey-cli and redis-cli build
//! their command-line hints from the arguments.
//!
//! The data is Valkey 8.1's (`src/commands/*.json`, as its COMMAND DOCS
//! prints them), except where Ferrokey implements the Valkey 8.0 form of a
//! command: SET without IFEQ, CLIENT LIST without the 8.1 filters, CLIENT
//! KILL with a single ID, HELLO without `availability_zone`, and SLOWLOG
//! not yet deprecated for COMMANDLOG. The hash field TTL commands (not in
//! Valkey 8) take Redis 7.4's.

/// An argument's type, as COMMAND DOCS names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

impl ArgType {
    pub const fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::OneOf => "oneof",
            ArgType::Block => "block",
        }
    }

    /// One of several arguments, or several in a row: these have
    /// sub-arguments instead of a display text.
    pub const fn is_group(self) -> bool {
        matches!(self, ArgType::OneOf | ArgType::Block)
    }
}

/// Argument flags, in the order COMMAND DOCS lists them.
pub const OPTIONAL: u8 = 1 << 0;
pub const MULTIPLE: u8 = 1 << 1;
pub const MULTIPLE_TOKEN: u8 = 1 << 2;

pub const ARG_FLAG_NAMES: &[(u8, &str)] = &[
    (OPTIONAL, "optional"),
    (MULTIPLE, "multiple"),
    (MULTIPLE_TOKEN, "multiple_token"),
];

/// Command doc flags.
pub const DEPRECATED: u8 = 1 << 0;
pub const SYSCMD: u8 = 1 << 1;

pub const DOC_FLAG_NAMES: &[(u8, &str)] = &[(DEPRECATED, "deprecated"), (SYSCMD, "syscmd")];

/// One argument of a command's syntax.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgType,
    /// What to show for the argument when it is not its name.
    pub display: Option<&'static str>,
    /// The key spec of a key argument.
    pub key_spec: Option<u8>,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: u8,
    /// A oneof's choices or a block's parts.
    pub args: &'static [Arg],
}

impl Arg {
    pub const fn new(name: &'static str, kind: ArgType) -> Arg {
        Arg {
            name,
            kind,
            display: None,
            key_spec: None,
            token: None,
            summary: None,
            since: None,
            deprecated_since: None,
            flags: 0,
            args: &[],
        }
    }

    pub const fn key(name: &'static str, spec: u8) -> Arg {
        Arg::new(name, ArgType::Key).key_spec(spec)
    }

    pub const fn string(name: &'static str) -> Arg {
        Arg::new(name, ArgType::String)
    }

    pub const fn integer(name: &'static str) -> Arg {
        Arg::new(name, ArgType::Integer)
    }

    pub const fn double(name: &'static str) -> Arg {
        Arg::new(name, ArgType::Double)
    }

    pub const fn pattern(name: &'static str) -> Arg {
        Arg::new(name, ArgType::Pattern)
    }

    pub const fn unix_time(name: &'static str) -> Arg {
        Arg::new(name, ArgType::UnixTime)
    }

    /// A keyword standing alone (NX, WITHSCORES...).
    pub const fn pure(name: &'static str, token: &'static str) -> Arg {
        Arg::new(name, ArgType::PureToken).token(token)
    }

    pub const fn oneof(name: &'static str, args: &'static [Arg]) -> Arg {
        Arg {
            args,
            ..Arg::new(name, ArgType::OneOf)
        }
    }

    pub const fn block(name: &'static str, args: &'static [Arg]) -> Arg {
        Arg {
            args,
            ..Arg::new(name, ArgType::Block)
        }
    }

    pub const fn key_spec(mut self, index: u8) -> Arg {
        self.key_spec = Some(index);
        self
    }

    pub const fn token(mut self, token: &'static str) -> Arg {
        self.token = Some(token);
        self
    }

    pub const fn display(mut self, text: &'static str) -> Arg {
        self.display = Some(text);
        self
    }

    pub const fn summary(mut self, summary: &'static str) -> Arg {
        self.summary = Some(summary);
        self
    }

    pub const fn since(mut self, version: &'static str) -> Arg {
        self.since = Some(version);
        self
    }

    pub const fn deprecated_since(mut self, version: &'static str) -> Arg {
        self.deprecated_since = Some(version);
        self
    }

    pub const fn optional(mut self) -> Arg {
        self.flags |= OPTIONAL;
        self
    }

    pub const fn multiple(mut self) -> Arg {
        self.flags |= MULTIPLE;
        self
    }

    pub const fn multiple_token(mut self) -> Arg {
        self.flags |= MULTIPLE_TOKEN;
        self
    }
}

/// A command's documentation besides `Command::doc`'s.
#[derive(Debug)]
pub struct Docs {
    pub doc_flags: u8,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    /// (version, change), in Valkey's order.
    pub history: &'static [(&'static str, &'static str)],
    pub args: &'static [Arg],
}

impl Docs {
    pub const NONE: Docs = Docs {
        doc_flags: 0,
        deprecated_since: None,
        replaced_by: None,
        history: &[],
        args: &[],
    };
}

/// The documentation of a command by full name ("get", "config|get"), if
/// it has any besides `Command::doc`'s.
pub fn of(name: &str) -> Option<&'static Docs> {
    DOCS.binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| &DOCS[i].1)
}

/// By full name, sorted.
static DOCS: &[(&str, Docs)] = &[
    (
        "append",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "auth",
        Docs {
            history: &[
                ("6.0.0", "Added ACL style (username and password)."),
            ],
            args: &[
                Arg::string("username").since("6.0.0").optional(),
                Arg::string("password"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bgsave",
        Docs {
            history: &[
                ("3.2.2", "Added the `SCHEDULE` option."),
                ("8.1.0", "Added the `CANCEL` option."),
            ],
            args: &[
                Arg::oneof("operation", &[
                    Arg::pure("schedule", "SCHEDULE").since("3.2.2"),
                    Arg::pure("cancel", "CANCEL").since("8.1.0"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bitcount",
        Docs {
            history: &[
                ("7.0.0", "Added the `BYTE|BIT` option."),
                ("8.0.0", "`end` made optional; when called without argument the command reports the last BYTE."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::block("range", &[
                    Arg::integer("start"),
                    Arg::block("end-unit-block", &[
                        Arg::integer("end"),
                        Arg::oneof("unit", &[
                            Arg::pure("byte", "BYTE"),
                            Arg::pure("bit", "BIT"),
                        ]).since("7.0.0").optional(),
                    ]).optional(),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bitfield",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::oneof("operation", &[
                    Arg::block("get-block", &[
                        Arg::string("encoding"),
                        Arg::integer("offset"),
                    ]).token("GET"),
                    Arg::block("write", &[
                        Arg::oneof("overflow-block", &[
                            Arg::pure("wrap", "WRAP"),
                            Arg::pure("sat", "SAT"),
                            Arg::pure("fail", "FAIL"),
                        ]).token("OVERFLOW").optional(),
                        Arg::oneof("write-operation", &[
                            Arg::block("set-block", &[
                                Arg::string("encoding"),
                                Arg::integer("offset"),
                                Arg::integer("value"),
                            ]).token("SET"),
                            Arg::block("incrby-block", &[
                                Arg::string("encoding"),
                                Arg::integer("offset"),
                                Arg::integer("increment"),
                            ]).token("INCRBY"),
                        ]),
                    ]),
                ]).optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bitfield_ro",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("get-block", &[
                    Arg::string("encoding"),
                    Arg::integer("offset"),
                ]).token("GET").optional().multiple().multiple_token(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bitop",
        Docs {
            args: &[
                Arg::oneof("operation", &[
                    Arg::pure("and", "AND"),
                    Arg::pure("or", "OR"),
                    Arg::pure("xor", "XOR"),
                    Arg::pure("not", "NOT"),
                ]),
                Arg::key("destkey", 0),
                Arg::key("key", 1).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bitpos",
        Docs {
            history: &[
                ("7.0.0", "Added the `BYTE|BIT` option."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("bit"),
                Arg::block("range", &[
                    Arg::integer("start"),
                    Arg::block("end-unit-block", &[
                        Arg::integer("end"),
                        Arg::oneof("unit", &[
                            Arg::pure("byte", "BYTE"),
                            Arg::pure("bit", "BIT"),
                        ]).since("7.0.0").optional(),
                    ]).optional(),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "blmove",
        Docs {
            args: &[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::oneof("wherefrom", &[
                    Arg::pure("left", "LEFT"),
                    Arg::pure("right", "RIGHT"),
                ]),
                Arg::oneof("whereto", &[
                    Arg::pure("left", "LEFT"),
                    Arg::pure("right", "RIGHT"),
                ]),
                Arg::double("timeout"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "blmpop",
        Docs {
            args: &[
                Arg::double("timeout"),
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::oneof("where", &[
                    Arg::pure("left", "LEFT"),
                    Arg::pure("right", "RIGHT"),
                ]),
                Arg::integer("count").token("COUNT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "blpop",
        Docs {
            history: &[
                ("6.0.0", "`timeout` is interpreted as a double instead of an integer."),
            ],
            args: &[
                Arg::key("key", 0).multiple(),
                Arg::double("timeout"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "brpop",
        Docs {
            history: &[
                ("6.0.0", "`timeout` is interpreted as a double instead of an integer."),
            ],
            args: &[
                Arg::key("key", 0).multiple(),
                Arg::double("timeout"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "brpoplpush",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
            history: &[
                ("6.0.0", "`timeout` is interpreted as a double instead of an integer."),
            ],
            args: &[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::double("timeout"),
            ],
        },
    ),
    (
        "bzmpop",
        Docs {
            args: &[
                Arg::double("timeout"),
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::oneof("where", &[
                    Arg::pure("min", "MIN"),
                    Arg::pure("max", "MAX"),
                ]),
                Arg::integer("count").token("COUNT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bzpopmax",
        Docs {
            history: &[
                ("6.0.0", "`timeout` is interpreted as a double instead of an integer."),
            ],
            args: &[
                Arg::key("key", 0).multiple(),
                Arg::double("timeout"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "bzpopmin",
        Docs {
            history: &[
                ("6.0.0", "`timeout` is interpreted as a double instead of an integer."),
            ],
            args: &[
                Arg::key("key", 0).multiple(),
                Arg::double("timeout"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|caching",
        Docs {
            args: &[
                Arg::oneof("mode", &[
                    Arg::pure("yes", "YES"),
                    Arg::pure("no", "NO"),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|capa",
        Docs {
            args: &[
                Arg::string("capability").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|kill",
        Docs {
            history: &[
                ("2.8.12", "Added new filter format."),
                ("2.8.12", "`ID` option."),
                ("3.2.0", "Added `master` type in for `TYPE` option."),
                ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."),
                ("6.2.0", "`LADDR` option."),
                ("8.0.0", "`MAXAGE` option."),
                ("8.0.0", "Replaced `master` `TYPE` with `primary`. `master` still supported for backward compatibility."),
            ],
            args: &[
                Arg::oneof("filter", &[
                    Arg::string("old-format").display("ip:port").deprecated_since("2.8.12"),
                    Arg::oneof("new-format", &[
                        Arg::integer("client-id").token("ID").since("2.8.12").optional(),
                        Arg::oneof("client-type", &[
                            Arg::pure("normal", "NORMAL"),
                            Arg::pure("master", "MASTER").since("3.2.0"),
                            Arg::pure("primary", "PRIMARY").since("8.0.0"),
                            Arg::pure("slave", "SLAVE"),
                            Arg::pure("replica", "REPLICA").since("5.0.0"),
                            Arg::pure("pubsub", "PUBSUB"),
                        ]).token("TYPE").since("2.8.12").optional(),
                        Arg::string("username").token("USER").optional(),
                        Arg::string("addr").token("ADDR").display("ip:port").optional(),
                        Arg::string("laddr").token("LADDR").display("ip:port").since("6.2.0").optional(),
                        Arg::oneof("skipme", &[
                            Arg::pure("yes", "YES"),
                            Arg::pure("no", "NO"),
                        ]).token("SKIPME").optional(),
                        Arg::integer("maxage").token("MAXAGE").since("8.0.0").optional(),
                    ]).multiple(),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|list",
        Docs {
            history: &[
                ("2.8.12", "Added unique client `id` field."),
                ("5.0.0", "Added optional `TYPE` filter."),
                ("6.0.0", "Added `user` field."),
                ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."),
                ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                ("7.0.3", "Added `ssub` field."),
                ("8.0.0", "Replaced `master` `TYPE` with `primary`. `master` still supported for backward compatibility."),
            ],
            args: &[
                Arg::oneof("client-type", &[
                    Arg::pure("normal", "NORMAL"),
                    Arg::pure("master", "MASTER"),
                    Arg::pure("replica", "REPLICA"),
                    Arg::pure("pubsub", "PUBSUB"),
                ]).token("TYPE").since("5.0.0").optional(),
                Arg::integer("client-id").token("ID").since("6.2.0").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|no-evict",
        Docs {
            args: &[
                Arg::oneof("enabled", &[
                    Arg::pure("on", "ON"),
                    Arg::pure("off", "OFF"),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|no-touch",
        Docs {
            args: &[
                Arg::oneof("enabled", &[
                    Arg::pure("on", "ON"),
                    Arg::pure("off", "OFF"),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|pause",
        Docs {
            history: &[
                ("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),
            ],
            args: &[
                Arg::integer("timeout"),
                Arg::oneof("mode", &[
                    Arg::pure("write", "WRITE"),
                    Arg::pure("all", "ALL"),
                ]).since("6.2.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|reply",
        Docs {
            args: &[
                Arg::oneof("action", &[
                    Arg::pure("on", "ON"),
                    Arg::pure("off", "OFF"),
                    Arg::pure("skip", "SKIP"),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|setinfo",
        Docs {
            args: &[
                Arg::oneof("attr", &[
                    Arg::string("libname").token("LIB-NAME"),
                    Arg::string("libver").token("LIB-VER"),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|setname",
        Docs {
            args: &[
                Arg::string("connection-name"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|tracking",
        Docs {
            args: &[
                Arg::oneof("status", &[
                    Arg::pure("on", "ON"),
                    Arg::pure("off", "OFF"),
                ]),
                Arg::integer("client-id").token("REDIRECT").optional(),
                Arg::string("prefix").token("PREFIX").optional().multiple().multiple_token(),
                Arg::pure("bcast", "BCAST").optional(),
                Arg::pure("optin", "OPTIN").optional(),
                Arg::pure("optout", "OPTOUT").optional(),
                Arg::pure("noloop", "NOLOOP").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "client|unblock",
        Docs {
            args: &[
                Arg::integer("client-id"),
                Arg::oneof("unblock-type", &[
                    Arg::pure("timeout", "TIMEOUT"),
                    Arg::pure("error", "ERROR"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|addslots",
        Docs {
            args: &[
                Arg::integer("slot").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|addslotsrange",
        Docs {
            args: &[
                Arg::block("range", &[
                    Arg::integer("start-slot"),
                    Arg::integer("end-slot"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|count-failure-reports",
        Docs {
            args: &[
                Arg::string("node-id"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|countkeysinslot",
        Docs {
            args: &[
                Arg::integer("slot"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|delslots",
        Docs {
            args: &[
                Arg::integer("slot").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|delslotsrange",
        Docs {
            args: &[
                Arg::block("range", &[
                    Arg::integer("start-slot"),
                    Arg::integer("end-slot"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|failover",
        Docs {
            args: &[
                Arg::oneof("options", &[
                    Arg::pure("force", "FORCE"),
                    Arg::pure("takeover", "TAKEOVER"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|forget",
        Docs {
            args: &[
                Arg::string("node-id"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|getkeysinslot",
        Docs {
            args: &[
                Arg::integer("slot"),
                Arg::integer("count"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|keyslot",
        Docs {
            args: &[
                Arg::string("key"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|meet",
        Docs {
            history: &[
                ("4.0.0", "Added the optional `cluster_bus_port` argument."),
            ],
            args: &[
                Arg::string("ip"),
                Arg::integer("port"),
                Arg::integer("cluster-bus-port").since("4.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|replicas",
        Docs {
            args: &[
                Arg::string("node-id"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|replicate",
        Docs {
            args: &[
                Arg::string("node-id"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|reset",
        Docs {
            args: &[
                Arg::oneof("reset-type", &[
                    Arg::pure("hard", "HARD"),
                    Arg::pure("soft", "SOFT"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|set-config-epoch",
        Docs {
            args: &[
                Arg::integer("config-epoch"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|setslot",
        Docs {
            history: &[
                ("8.0.0", "Added the `TIMEOUT` option."),
            ],
            args: &[
                Arg::integer("slot"),
                Arg::oneof("subcommand", &[
                    Arg::string("importing").token("IMPORTING").display("node-id"),
                    Arg::string("migrating").token("MIGRATING").display("node-id"),
                    Arg::string("node").token("NODE").display("node-id"),
                    Arg::pure("stable", "STABLE"),
                ]),
                Arg::integer("timeout").token("TIMEOUT").since("8.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|slaves",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("5.0.0"),
            replaced_by: Some("`CLUSTER REPLICAS`"),
            args: &[
                Arg::string("node-id"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|slot-stats",
        Docs {
            args: &[
                Arg::oneof("filter", &[
                    Arg::block("slotsrange", &[
                        Arg::integer("start-slot"),
                        Arg::integer("end-slot"),
                    ]).token("SLOTSRANGE"),
                    Arg::block("orderby", &[
                        Arg::string("metric"),
                        Arg::integer("limit").token("LIMIT").optional(),
                        Arg::oneof("order", &[
                            Arg::pure("asc", "ASC"),
                            Arg::pure("desc", "DESC"),
                        ]).optional(),
                    ]).token("ORDERBY"),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "cluster|slots",
        Docs {
            history: &[
                ("4.0.0", "Added node IDs."),
                ("7.0.0", "Added additional networking metadata field."),
            ],
            ..Docs::NONE
        },
    ),
    (
        "command|docs",
        Docs {
            args: &[
                Arg::string("command-name").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "command|getkeys",
        Docs {
            args: &[
                Arg::string("command"),
                Arg::string("arg").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "command|getkeysandflags",
        Docs {
            args: &[
                Arg::string("command"),
                Arg::string("arg").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "command|info",
        Docs {
            history: &[
                ("7.0.0", "Allowed to be called with no argument to get info on all commands."),
            ],
            args: &[
                Arg::string("command-name").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "command|list",
        Docs {
            args: &[
                Arg::oneof("filterby", &[
                    Arg::string("module-name").token("MODULE"),
                    Arg::string("category").token("ACLCAT"),
                    Arg::pattern("pattern").token("PATTERN"),
                ]).token("FILTERBY").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "config|get",
        Docs {
            history: &[
                ("7.0.0", "Added the ability to pass multiple pattern parameters in one call"),
            ],
            args: &[
                Arg::string("parameter").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "config|set",
        Docs {
            history: &[
                ("7.0.0", "Added the ability to set multiple parameters in one call."),
            ],
            args: &[
                Arg::block("data", &[
                    Arg::string("parameter"),
                    Arg::string("value"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "copy",
        Docs {
            args: &[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::integer("destination-db").token("DB").optional(),
                Arg::pure("replace", "REPLACE").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "debug",
        Docs {
            doc_flags: SYSCMD,
            ..Docs::NONE
        },
    ),
    (
        "decr",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "decrby",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("decrement"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "del",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "dump",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "echo",
        Docs {
            args: &[
                Arg::string("message"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "exists",
        Docs {
            history: &[
                ("3.0.3", "Accepts multiple `key` arguments."),
            ],
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "expire",
        Docs {
            history: &[
                ("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("seconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).since("7.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "expireat",
        Docs {
            history: &[
                ("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::unix_time("unix-time-seconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).since("7.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "expiretime",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "flushall",
        Docs {
            history: &[
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            args: &[
                Arg::oneof("flush-type", &[
                    Arg::pure("async", "ASYNC").since("4.0.0"),
                    Arg::pure("sync", "SYNC").since("6.2.0"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "flushdb",
        Docs {
            history: &[
                ("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                ("6.2.0", "Added the `SYNC` flushing mode modifier."),
            ],
            args: &[
                Arg::oneof("flush-type", &[
                    Arg::pure("async", "ASYNC").since("4.0.0"),
                    Arg::pure("sync", "SYNC").since("6.2.0"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "geoadd",
        Docs {
            history: &[
                ("6.2.0", "Added the `CH`, `NX` and `XX` options."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                ]).since("6.2.0").optional(),
                Arg::pure("change", "CH").since("6.2.0").optional(),
                Arg::block("data", &[
                    Arg::double("longitude"),
                    Arg::double("latitude"),
                    Arg::string("member"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "geodist",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("member1"),
                Arg::string("member2"),
                Arg::oneof("unit", &[
                    Arg::pure("m", "M"),
                    Arg::pure("km", "KM"),
                    Arg::pure("ft", "FT"),
                    Arg::pure("mi", "MI"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "geohash",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("member").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "geopos",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("member").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "georadius",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"),
            history: &[
                ("6.2.0", "Added the `ANY` option for `COUNT`."),
                ("7.0.0", "Added support for uppercase unit names."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::double("longitude"),
                Arg::double("latitude"),
                Arg::double("radius"),
                Arg::oneof("unit", &[
                    Arg::pure("m", "M"),
                    Arg::pure("km", "KM"),
                    Arg::pure("ft", "FT"),
                    Arg::pure("mi", "MI"),
                ]),
                Arg::pure("withcoord", "WITHCOORD").optional(),
                Arg::pure("withdist", "WITHDIST").optional(),
                Arg::pure("withhash", "WITHHASH").optional(),
                Arg::block("count-block", &[
                    Arg::integer("count").token("COUNT"),
                    Arg::pure("any", "ANY").since("6.2.0").optional(),
                ]).optional(),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
                Arg::oneof("store", &[
                    Arg::key("storekey", 1).token("STORE").display("key"),
                    Arg::key("storedistkey", 2).token("STOREDIST").display("key"),
                ]).optional(),
            ],
        },
    ),
    (
        "georadius_ro",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`GEOSEARCH` with the `BYRADIUS` argument"),
            history: &[
                ("6.2.0", "Added the `ANY` option for `COUNT`."),
                ("7.0.0", "Added support for uppercase unit names."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::double("longitude"),
                Arg::double("latitude"),
                Arg::double("radius"),
                Arg::oneof("unit", &[
                    Arg::pure("m", "M"),
                    Arg::pure("km", "KM"),
                    Arg::pure("ft", "FT"),
                    Arg::pure("mi", "MI"),
                ]),
                Arg::pure("withcoord", "WITHCOORD").optional(),
                Arg::pure("withdist", "WITHDIST").optional(),
                Arg::pure("withhash", "WITHHASH").optional(),
                Arg::block("count-block", &[
                    Arg::integer("count").token("COUNT"),
                    Arg::pure("any", "ANY").since("6.2.0").optional(),
                ]).optional(),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
            ],
        },
    ),
    (
        "georadiusbymember",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments"),
            history: &[
                ("6.2.0", "Added the `ANY` option for `COUNT`."),
                ("7.0.0", "Added support for uppercase unit names."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("member"),
                Arg::double("radius"),
                Arg::oneof("unit", &[
                    Arg::pure("m", "M"),
                    Arg::pure("km", "KM"),
                    Arg::pure("ft", "FT"),
                    Arg::pure("mi", "MI"),
                ]),
                Arg::pure("withcoord", "WITHCOORD").optional(),
                Arg::pure("withdist", "WITHDIST").optional(),
                Arg::pure("withhash", "WITHHASH").optional(),
                Arg::block("count-block", &[
                    Arg::integer("count").token("COUNT"),
                    Arg::pure("any", "ANY").optional(),
                ]).optional(),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
                Arg::oneof("store", &[
                    Arg::key("storekey", 1).token("STORE").display("key"),
                    Arg::key("storedistkey", 2).token("STOREDIST").display("key"),
                ]).optional(),
            ],
        },
    ),
    (
        "georadiusbymember_ro",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
            history: &[
                ("6.2.0", "Added the `ANY` option for `COUNT`."),
                ("7.0.0", "Added support for uppercase unit names."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("member"),
                Arg::double("radius"),
                Arg::oneof("unit", &[
                    Arg::pure("m", "M"),
                    Arg::pure("km", "KM"),
                    Arg::pure("ft", "FT"),
                    Arg::pure("mi", "MI"),
                ]),
                Arg::pure("withcoord", "WITHCOORD").optional(),
                Arg::pure("withdist", "WITHDIST").optional(),
                Arg::pure("withhash", "WITHHASH").optional(),
                Arg::block("count-block", &[
                    Arg::integer("count").token("COUNT"),
                    Arg::pure("any", "ANY").optional(),
                ]).optional(),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
            ],
        },
    ),
    (
        "geosearch",
        Docs {
            history: &[
                ("7.0.0", "Added support for uppercase unit names."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::oneof("from", &[
                    Arg::string("member").token("FROMMEMBER"),
                    Arg::block("fromlonlat", &[
                        Arg::double("longitude"),
                        Arg::double("latitude"),
                    ]).token("FROMLONLAT"),
                ]),
                Arg::oneof("by", &[
                    Arg::block("circle", &[
                        Arg::double("radius").token("BYRADIUS"),
                        Arg::oneof("unit", &[
                            Arg::pure("m", "M"),
                            Arg::pure("km", "KM"),
                            Arg::pure("ft", "FT"),
                            Arg::pure("mi", "MI"),
                        ]),
                    ]),
                    Arg::block("box", &[
                        Arg::double("width").token("BYBOX"),
                        Arg::double("height"),
                        Arg::oneof("unit", &[
                            Arg::pure("m", "M"),
                            Arg::pure("km", "KM"),
                            Arg::pure("ft", "FT"),
                            Arg::pure("mi", "MI"),
                        ]),
                    ]),
                ]),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
                Arg::block("count-block", &[
                    Arg::integer("count").token("COUNT"),
                    Arg::pure("any", "ANY").optional(),
                ]).optional(),
                Arg::pure("withcoord", "WITHCOORD").optional(),
                Arg::pure("withdist", "WITHDIST").optional(),
                Arg::pure("withhash", "WITHHASH").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "geosearchstore",
        Docs {
            history: &[
                ("7.0.0", "Added support for uppercase unit names."),
            ],
            args: &[
                Arg::key("destination", 0),
                Arg::key("source", 1),
                Arg::oneof("from", &[
                    Arg::string("member").token("FROMMEMBER"),
                    Arg::block("fromlonlat", &[
                        Arg::double("longitude"),
                        Arg::double("latitude"),
                    ]).token("FROMLONLAT"),
                ]),
                Arg::oneof("by", &[
                    Arg::block("circle", &[
                        Arg::double("radius").token("BYRADIUS"),
                        Arg::oneof("unit", &[
                            Arg::pure("m", "M"),
                            Arg::pure("km", "KM"),
                            Arg::pure("ft", "FT"),
                            Arg::pure("mi", "MI"),
                        ]),
                    ]),
                    Arg::block("box", &[
                        Arg::double("width").token("BYBOX"),
                        Arg::double("height"),
                        Arg::oneof("unit", &[
                            Arg::pure("m", "M"),
                            Arg::pure("km", "KM"),
                            Arg::pure("ft", "FT"),
                            Arg::pure("mi", "MI"),
                        ]),
                    ]),
                ]),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
                Arg::block("count-block", &[
                    Arg::integer("count").token("COUNT"),
                    Arg::pure("any", "ANY").optional(),
                ]).optional(),
                Arg::pure("storedist", "STOREDIST").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "get",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "getbit",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("offset"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "getdel",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "getex",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::oneof("expiration", &[
                    Arg::integer("seconds").token("EX"),
                    Arg::integer("milliseconds").token("PX"),
                    Arg::unix_time("unix-time-seconds").token("EXAT"),
                    Arg::unix_time("unix-time-milliseconds").token("PXAT"),
                    Arg::pure("persist", "PERSIST"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "getrange",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("start"),
                Arg::integer("end"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "getset",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`SET` with the `!GET` argument"),
            args: &[
                Arg::key("key", 0),
                Arg::string("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hdel",
        Docs {
            history: &[
                ("2.4.0", "Accepts multiple `field` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("field").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hello",
        Docs {
            history: &[
                ("6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context."),
            ],
            args: &[
                Arg::block("arguments", &[
                    Arg::integer("protover"),
                    Arg::block("auth", &[
                        Arg::string("username"),
                        Arg::string("password"),
                    ]).token("AUTH").optional(),
                    Arg::string("clientname").token("SETNAME").optional(),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hexists",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("field"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hexpire",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("seconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).optional(),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hexpireat",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::unix_time("unix-time-seconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).optional(),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hexpiretime",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hget",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("field"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hgetall",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hincrby",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("field"),
                Arg::integer("increment"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hincrbyfloat",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("field"),
                Arg::double("increment"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hkeys",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hlen",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hmget",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("field").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hmset",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("4.0.0"),
            replaced_by: Some("`HSET` with multiple field-value pairs"),
            args: &[
                Arg::key("key", 0),
                Arg::block("data", &[
                    Arg::string("field"),
                    Arg::string("value"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hpersist",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hpexpire",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("milliseconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).optional(),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hpexpireat",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::unix_time("unix-time-milliseconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).optional(),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hpexpiretime",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hpttl",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hrandfield",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("options", &[
                    Arg::integer("count"),
                    Arg::pure("withvalues", "WITHVALUES").optional(),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hscan",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("cursor"),
                Arg::pattern("pattern").token("MATCH").optional(),
                Arg::integer("count").token("COUNT").optional(),
                Arg::pure("novalues", "NOVALUES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hset",
        Docs {
            history: &[
                ("4.0.0", "Accepts multiple `field` and `value` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::block("data", &[
                    Arg::string("field"),
                    Arg::string("value"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hsetnx",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("field"),
                Arg::string("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hstrlen",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("field"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "httl",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("fields", &[
                    Arg::integer("numfields"),
                    Arg::string("field").multiple(),
                ]).token("FIELDS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "hvals",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "incr",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "incrby",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("increment"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "incrbyfloat",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::double("increment"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "info",
        Docs {
            history: &[
                ("7.0.0", "Added support for taking multiple section arguments."),
            ],
            args: &[
                Arg::string("section").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "keys",
        Docs {
            args: &[
                Arg::pattern("pattern"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "latency|graph",
        Docs {
            args: &[
                Arg::string("event"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "latency|histogram",
        Docs {
            args: &[
                Arg::string("command").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "latency|history",
        Docs {
            args: &[
                Arg::string("event"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "latency|reset",
        Docs {
            args: &[
                Arg::string("event").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lcs",
        Docs {
            args: &[
                Arg::key("key1", 0),
                Arg::key("key2", 0),
                Arg::pure("len", "LEN").optional(),
                Arg::pure("idx", "IDX").optional(),
                Arg::integer("min-match-len").token("MINMATCHLEN").optional(),
                Arg::pure("withmatchlen", "WITHMATCHLEN").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lindex",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("index"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "linsert",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::oneof("where", &[
                    Arg::pure("before", "BEFORE"),
                    Arg::pure("after", "AFTER"),
                ]),
                Arg::string("pivot"),
                Arg::string("element"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "llen",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lmove",
        Docs {
            args: &[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::oneof("wherefrom", &[
                    Arg::pure("left", "LEFT"),
                    Arg::pure("right", "RIGHT"),
                ]),
                Arg::oneof("whereto", &[
                    Arg::pure("left", "LEFT"),
                    Arg::pure("right", "RIGHT"),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lmpop",
        Docs {
            args: &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::oneof("where", &[
                    Arg::pure("left", "LEFT"),
                    Arg::pure("right", "RIGHT"),
                ]),
                Arg::integer("count").token("COUNT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lpop",
        Docs {
            history: &[
                ("6.2.0", "Added the `count` argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("count").since("6.2.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lpos",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("element"),
                Arg::integer("rank").token("RANK").optional(),
                Arg::integer("num-matches").token("COUNT").optional(),
                Arg::integer("len").token("MAXLEN").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lpush",
        Docs {
            history: &[
                ("2.4.0", "Accepts multiple `element` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("element").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lpushx",
        Docs {
            history: &[
                ("4.0.0", "Accepts multiple `element` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("element").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lrange",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("start"),
                Arg::integer("stop"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lrem",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("count"),
                Arg::string("element"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "lset",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("index"),
                Arg::string("element"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "ltrim",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("start"),
                Arg::integer("stop"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "memory|usage",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("count").token("SAMPLES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "mget",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "migrate",
        Docs {
            history: &[
                ("3.0.0", "Added the `COPY` and `REPLACE` options."),
                ("3.0.6", "Added the `KEYS` option."),
                ("4.0.7", "Added the `AUTH` option."),
                ("6.0.0", "Added the `AUTH2` option."),
            ],
            args: &[
                Arg::string("host"),
                Arg::integer("port"),
                Arg::oneof("key-selector", &[
                    Arg::key("key", 0),
                    Arg::pure("empty-string", ""),
                ]),
                Arg::integer("destination-db"),
                Arg::integer("timeout"),
                Arg::pure("copy", "COPY").since("3.0.0").optional(),
                Arg::pure("replace", "REPLACE").since("3.0.0").optional(),
                Arg::oneof("authentication", &[
                    Arg::string("auth").token("AUTH").display("password").since("4.0.7"),
                    Arg::block("auth2", &[
                        Arg::string("username"),
                        Arg::string("password"),
                    ]).token("AUTH2").since("6.0.0"),
                ]).optional(),
                Arg::key("keys", 1).token("KEYS").display("key").since("3.0.6").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "module|load",
        Docs {
            args: &[
                Arg::string("path"),
                Arg::string("arg").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "module|loadex",
        Docs {
            args: &[
                Arg::string("path"),
                Arg::block("configs", &[
                    Arg::string("name"),
                    Arg::string("value"),
                ]).token("CONFIG").optional().multiple().multiple_token(),
                Arg::string("args").token("ARGS").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "module|unload",
        Docs {
            args: &[
                Arg::string("name"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "move",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("db"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "mset",
        Docs {
            args: &[
                Arg::block("data", &[
                    Arg::key("key", 0),
                    Arg::string("value"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "msetnx",
        Docs {
            args: &[
                Arg::block("data", &[
                    Arg::key("key", 0),
                    Arg::string("value"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "object|encoding",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "object|freq",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "object|idletime",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "object|refcount",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "persist",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pexpire",
        Docs {
            history: &[
                ("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("milliseconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).since("7.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pexpireat",
        Docs {
            history: &[
                ("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::unix_time("unix-time-milliseconds"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).since("7.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pexpiretime",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pfadd",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("element").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pfcount",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pfdebug",
        Docs {
            doc_flags: SYSCMD,
            args: &[
                Arg::string("subcommand"),
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pfmerge",
        Docs {
            args: &[
                Arg::key("destkey", 0),
                Arg::key("sourcekey", 1).optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pfselftest",
        Docs {
            doc_flags: SYSCMD,
            ..Docs::NONE
        },
    ),
    (
        "ping",
        Docs {
            args: &[
                Arg::string("message").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "psetex",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("2.6.12"),
            replaced_by: Some("`SET` with the `PX` argument"),
            args: &[
                Arg::key("key", 0),
                Arg::integer("milliseconds"),
                Arg::string("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "psubscribe",
        Docs {
            args: &[
                Arg::pattern("pattern").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pttl",
        Docs {
            history: &[
                ("2.8.0", "Added the -2 reply."),
            ],
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "publish",
        Docs {
            args: &[
                Arg::string("channel"),
                Arg::string("message"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pubsub|channels",
        Docs {
            args: &[
                Arg::pattern("pattern").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pubsub|numsub",
        Docs {
            args: &[
                Arg::string("channel").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pubsub|shardchannels",
        Docs {
            args: &[
                Arg::pattern("pattern").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "pubsub|shardnumsub",
        Docs {
            args: &[
                Arg::string("shardchannel").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "punsubscribe",
        Docs {
            args: &[
                Arg::pattern("pattern").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "quit",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("7.2.0"),
            replaced_by: Some("just closing the connection"),
            ..Docs::NONE
        },
    ),
    (
        "rename",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::key("newkey", 1),
            ],
            ..Docs::NONE
        },
    ),
    (
        "renamenx",
        Docs {
            history: &[
                ("3.2.0", "The command no longer returns an error when source and destination names are the same."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::key("newkey", 1),
            ],
            ..Docs::NONE
        },
    ),
    (
        "restore",
        Docs {
            history: &[
                ("3.0.0", "Added the `REPLACE` modifier."),
                ("5.0.0", "Added the `ABSTTL` modifier."),
                ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("ttl"),
                Arg::string("serialized-value"),
                Arg::pure("replace", "REPLACE").since("3.0.0").optional(),
                Arg::pure("absttl", "ABSTTL").since("5.0.0").optional(),
                Arg::integer("seconds").token("IDLETIME").since("5.0.0").optional(),
                Arg::integer("frequency").token("FREQ").since("5.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "restore-asking",
        Docs {
            doc_flags: SYSCMD,
            history: &[
                ("3.0.0", "Added the `REPLACE` modifier."),
                ("5.0.0", "Added the `ABSTTL` modifier."),
                ("5.0.0", "Added the `IDLETIME` and `FREQ` options."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("ttl"),
                Arg::string("serialized-value"),
                Arg::pure("replace", "REPLACE").since("3.0.0").optional(),
                Arg::pure("absttl", "ABSTTL").since("5.0.0").optional(),
                Arg::integer("seconds").token("IDLETIME").since("5.0.0").optional(),
                Arg::integer("frequency").token("FREQ").since("5.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "rpop",
        Docs {
            history: &[
                ("6.2.0", "Added the `count` argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("count").since("6.2.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "rpoplpush",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`LMOVE` with the `RIGHT` and `LEFT` arguments"),
            args: &[
                Arg::key("source", 0),
                Arg::key("destination", 1),
            ],
            ..Docs::NONE
        },
    ),
    (
        "rpush",
        Docs {
            history: &[
                ("2.4.0", "Accepts multiple `element` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("element").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "rpushx",
        Docs {
            history: &[
                ("4.0.0", "Accepts multiple `element` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("element").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sadd",
        Docs {
            history: &[
                ("2.4.0", "Accepts multiple `member` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("member").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "scan",
        Docs {
            history: &[
                ("6.0.0", "Added the `TYPE` subcommand."),
            ],
            args: &[
                Arg::integer("cursor"),
                Arg::pattern("pattern").token("MATCH").optional(),
                Arg::integer("count").token("COUNT").optional(),
                Arg::string("type").token("TYPE").since("6.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "scard",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sdiff",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sdiffstore",
        Docs {
            args: &[
                Arg::key("destination", 0),
                Arg::key("key", 1).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "select",
        Docs {
            args: &[
                Arg::integer("index"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "set",
        Docs {
            history: &[
                ("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."),
                ("6.0.0", "Added the `KEEPTTL` option."),
                ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."),
                ("7.0.0", "Allowed the `NX` and `GET` options to be used together."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("value"),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                ]).since("2.6.12").optional(),
                Arg::pure("get", "GET").since("6.2.0").optional(),
                Arg::oneof("expiration", &[
                    Arg::integer("seconds").token("EX").since("2.6.12"),
                    Arg::integer("milliseconds").token("PX").since("2.6.12"),
                    Arg::unix_time("unix-time-seconds").token("EXAT").since("6.2.0"),
                    Arg::unix_time("unix-time-milliseconds").token("PXAT").since("6.2.0"),
                    Arg::pure("keepttl", "KEEPTTL").since("6.0.0"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "setbit",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("offset"),
                Arg::integer("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "setex",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("2.6.12"),
            replaced_by: Some("`SET` with the `EX` argument"),
            args: &[
                Arg::key("key", 0),
                Arg::integer("seconds"),
                Arg::string("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "setnx",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("2.6.12"),
            replaced_by: Some("`SET` with the `NX` argument"),
            args: &[
                Arg::key("key", 0),
                Arg::string("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "setrange",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("offset"),
                Arg::string("value"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "shutdown",
        Docs {
            history: &[
                ("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),
            ],
            args: &[
                Arg::oneof("abort-selector", &[
                    Arg::block("save-selector-block", &[
                        Arg::oneof("save-selector", &[
                            Arg::pure("nosave", "NOSAVE"),
                            Arg::pure("save", "SAVE"),
                        ]).optional(),
                        Arg::pure("now", "NOW").since("7.0.0").optional(),
                        Arg::pure("force", "FORCE").since("7.0.0").optional(),
                    ]),
                    Arg::pure("abort", "ABORT").since("7.0.0"),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sinter",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sintercard",
        Docs {
            args: &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::integer("limit").token("LIMIT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sinterstore",
        Docs {
            args: &[
                Arg::key("destination", 0),
                Arg::key("key", 1).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sismember",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("member"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "slowlog|get",
        Docs {
            history: &[
                ("4.0.0", "Added client IP address, port and name to the reply."),
            ],
            args: &[
                Arg::integer("count").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "smembers",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "smismember",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("member").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "smove",
        Docs {
            args: &[
                Arg::key("source", 0),
                Arg::key("destination", 1),
                Arg::string("member"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sort",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::pattern("by-pattern").key_spec(1).token("BY").display("pattern").optional(),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").optional(),
                Arg::pattern("get-pattern").key_spec(1).token("GET").display("pattern").optional().multiple().multiple_token(),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
                Arg::pure("sorting", "ALPHA").optional(),
                Arg::key("destination", 2).token("STORE").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sort_ro",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::pattern("by-pattern").key_spec(1).token("BY").display("pattern").optional(),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").optional(),
                Arg::pattern("get-pattern").key_spec(1).token("GET").display("pattern").optional().multiple().multiple_token(),
                Arg::oneof("order", &[
                    Arg::pure("asc", "ASC"),
                    Arg::pure("desc", "DESC"),
                ]).optional(),
                Arg::pure("sorting", "ALPHA").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "spop",
        Docs {
            history: &[
                ("3.2.0", "Added the `count` argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("count").since("3.2.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "spublish",
        Docs {
            args: &[
                Arg::string("shardchannel"),
                Arg::string("message"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "srandmember",
        Docs {
            history: &[
                ("2.6.0", "Added the optional `count` argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("count").since("2.6.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "srem",
        Docs {
            history: &[
                ("2.4.0", "Accepts multiple `member` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("member").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sscan",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("cursor"),
                Arg::pattern("pattern").token("MATCH").optional(),
                Arg::integer("count").token("COUNT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "ssubscribe",
        Docs {
            args: &[
                Arg::string("shardchannel").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "strlen",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "subscribe",
        Docs {
            args: &[
                Arg::string("channel").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "substr",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("2.0.0"),
            replaced_by: Some("`GETRANGE`"),
            args: &[
                Arg::key("key", 0),
                Arg::integer("start"),
                Arg::integer("end"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sunion",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sunionstore",
        Docs {
            args: &[
                Arg::key("destination", 0),
                Arg::key("key", 1).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "sunsubscribe",
        Docs {
            args: &[
                Arg::string("shardchannel").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "swapdb",
        Docs {
            args: &[
                Arg::integer("index1"),
                Arg::integer("index2"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "touch",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "ttl",
        Docs {
            history: &[
                ("2.8.0", "Added the -2 reply."),
            ],
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "type",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "unlink",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "unsubscribe",
        Docs {
            args: &[
                Arg::string("channel").optional().multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "wait",
        Docs {
            args: &[
                Arg::integer("numreplicas"),
                Arg::integer("timeout"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "watch",
        Docs {
            args: &[
                Arg::key("key", 0).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xack",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::string("id").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xadd",
        Docs {
            history: &[
                ("6.2.0", "Added the `NOMKSTREAM` option, `MINID` trimming strategy and the `LIMIT` option."),
                ("7.0.0", "Added support for the `<ms>-*` explicit ID form."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::pure("nomkstream", "NOMKSTREAM").since("6.2.0").optional(),
                Arg::block("trim", &[
                    Arg::oneof("strategy", &[
                        Arg::pure("maxlen", "MAXLEN"),
                        Arg::pure("minid", "MINID").since("6.2.0"),
                    ]),
                    Arg::oneof("operator", &[
                        Arg::pure("equal", "="),
                        Arg::pure("approximately", "~"),
                    ]).optional(),
                    Arg::string("threshold"),
                    Arg::integer("count").token("LIMIT").since("6.2.0").optional(),
                ]).optional(),
                Arg::oneof("id-selector", &[
                    Arg::pure("auto-id", "*"),
                    Arg::string("id"),
                ]),
                Arg::block("data", &[
                    Arg::string("field"),
                    Arg::string("value"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xautoclaim",
        Docs {
            history: &[
                ("7.0.0", "Added an element to the reply array, containing deleted entries the command cleared from the PEL"),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::string("consumer"),
                Arg::string("min-idle-time"),
                Arg::string("start"),
                Arg::integer("count").token("COUNT").optional(),
                Arg::pure("justid", "JUSTID").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xclaim",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::string("consumer"),
                Arg::string("min-idle-time"),
                Arg::string("id").multiple(),
                Arg::integer("ms").token("IDLE").optional(),
                Arg::unix_time("unix-time-milliseconds").token("TIME").optional(),
                Arg::integer("count").token("RETRYCOUNT").optional(),
                Arg::pure("force", "FORCE").optional(),
                Arg::pure("justid", "JUSTID").optional(),
                Arg::string("lastid").token("LASTID").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xdel",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("id").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xgroup|create",
        Docs {
            history: &[
                ("7.0.0", "Added the `entries_read` named argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::oneof("id-selector", &[
                    Arg::string("id"),
                    Arg::pure("new-id", "$"),
                ]),
                Arg::pure("mkstream", "MKSTREAM").optional(),
                Arg::integer("entriesread").token("ENTRIESREAD").display("entries-read").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xgroup|createconsumer",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::string("consumer"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xgroup|delconsumer",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::string("consumer"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xgroup|destroy",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xgroup|setid",
        Docs {
            history: &[
                ("7.0.0", "Added the optional `entries_read` argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::oneof("id-selector", &[
                    Arg::string("id"),
                    Arg::pure("new-id", "$"),
                ]),
                Arg::integer("entriesread").token("ENTRIESREAD").display("entries-read").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xinfo|consumers",
        Docs {
            history: &[
                ("7.2.0", "Added the `inactive` field, and changed the meaning of `idle`."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xinfo|groups",
        Docs {
            history: &[
                ("7.0.0", "Added the `entries-read` and `lag` fields"),
            ],
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xinfo|stream",
        Docs {
            history: &[
                ("6.0.0", "Added the `FULL` modifier."),
                ("7.0.0", "Added the `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag` fields"),
                ("7.2.0", "Added the `active-time` field, and changed the meaning of `seen-time`."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::block("full-block", &[
                    Arg::pure("full", "FULL"),
                    Arg::integer("count").token("COUNT").optional(),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xlen",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xpending",
        Docs {
            history: &[
                ("6.2.0", "Added the `IDLE` option and exclusive range intervals."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("group"),
                Arg::block("filters", &[
                    Arg::integer("min-idle-time").token("IDLE").since("6.2.0").optional(),
                    Arg::string("start"),
                    Arg::string("end"),
                    Arg::integer("count"),
                    Arg::string("consumer").optional(),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xrange",
        Docs {
            history: &[
                ("6.2.0", "Added exclusive ranges."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("start"),
                Arg::string("end"),
                Arg::integer("count").token("COUNT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xread",
        Docs {
            args: &[
                Arg::integer("count").token("COUNT").optional(),
                Arg::integer("milliseconds").token("BLOCK").optional(),
                Arg::block("streams", &[
                    Arg::key("key", 0).multiple(),
                    Arg::string("id").multiple(),
                ]).token("STREAMS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xreadgroup",
        Docs {
            args: &[
                Arg::block("group-block", &[
                    Arg::string("group"),
                    Arg::string("consumer"),
                ]).token("GROUP"),
                Arg::integer("count").token("COUNT").optional(),
                Arg::integer("milliseconds").token("BLOCK").optional(),
                Arg::pure("noack", "NOACK").optional(),
                Arg::block("streams", &[
                    Arg::key("key", 0).multiple(),
                    Arg::string("id").multiple(),
                ]).token("STREAMS"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xrevrange",
        Docs {
            history: &[
                ("6.2.0", "Added exclusive ranges."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("end"),
                Arg::string("start"),
                Arg::integer("count").token("COUNT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xsetid",
        Docs {
            history: &[
                ("7.0.0", "Added the `entries_added` and `max_deleted_entry_id` arguments."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("last-id"),
                Arg::integer("entries-added").token("ENTRIESADDED").since("7.0.0").optional(),
                Arg::string("max-deleted-id").token("MAXDELETEDID").since("7.0.0").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "xtrim",
        Docs {
            history: &[
                ("6.2.0", "Added the `MINID` trimming strategy and the `LIMIT` option."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::block("trim", &[
                    Arg::oneof("strategy", &[
                        Arg::pure("maxlen", "MAXLEN"),
                        Arg::pure("minid", "MINID").since("6.2.0"),
                    ]),
                    Arg::oneof("operator", &[
                        Arg::pure("equal", "="),
                        Arg::pure("approximately", "~"),
                    ]).optional(),
                    Arg::string("threshold"),
                    Arg::integer("count").token("LIMIT").since("6.2.0").optional(),
                ]),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zadd",
        Docs {
            history: &[
                ("2.4.0", "Accepts multiple elements."),
                ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
                ("6.2.0", "Added the `GT` and `LT` options."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::oneof("condition", &[
                    Arg::pure("nx", "NX"),
                    Arg::pure("xx", "XX"),
                ]).since("3.0.2").optional(),
                Arg::oneof("comparison", &[
                    Arg::pure("gt", "GT"),
                    Arg::pure("lt", "LT"),
                ]).since("6.2.0").optional(),
                Arg::pure("change", "CH").since("3.0.2").optional(),
                Arg::pure("increment", "INCR").since("3.0.2").optional(),
                Arg::block("data", &[
                    Arg::double("score"),
                    Arg::string("member"),
                ]).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zcard",
        Docs {
            args: &[
                Arg::key("key", 0),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zcount",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::double("min"),
                Arg::double("max"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zdiff",
        Docs {
            args: &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zdiffstore",
        Docs {
            args: &[
                Arg::key("destination", 0),
                Arg::integer("numkeys"),
                Arg::key("key", 1).multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zincrby",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("increment"),
                Arg::string("member"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zinter",
        Docs {
            args: &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::integer("weight").token("WEIGHTS").optional().multiple(),
                Arg::oneof("aggregate", &[
                    Arg::pure("sum", "SUM"),
                    Arg::pure("min", "MIN"),
                    Arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
                Arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zintercard",
        Docs {
            args: &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::integer("limit").token("LIMIT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zinterstore",
        Docs {
            args: &[
                Arg::key("destination", 0),
                Arg::integer("numkeys"),
                Arg::key("key", 1).multiple(),
                Arg::integer("weight").token("WEIGHTS").optional().multiple(),
                Arg::oneof("aggregate", &[
                    Arg::pure("sum", "SUM"),
                    Arg::pure("min", "MIN"),
                    Arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zlexcount",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("min"),
                Arg::string("max"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zmpop",
        Docs {
            args: &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::oneof("where", &[
                    Arg::pure("min", "MIN"),
                    Arg::pure("max", "MAX"),
                ]),
                Arg::integer("count").token("COUNT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zmscore",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("member").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zpopmax",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("count").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zpopmin",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("count").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrandmember",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::block("options", &[
                    Arg::integer("count"),
                    Arg::pure("withscores", "WITHSCORES").optional(),
                ]).optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrange",
        Docs {
            history: &[
                ("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("start"),
                Arg::string("stop"),
                Arg::oneof("sortby", &[
                    Arg::pure("byscore", "BYSCORE"),
                    Arg::pure("bylex", "BYLEX"),
                ]).since("6.2.0").optional(),
                Arg::pure("rev", "REV").since("6.2.0").optional(),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").since("6.2.0").optional(),
                Arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrangebylex",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`ZRANGE` with the `BYLEX` argument"),
            args: &[
                Arg::key("key", 0),
                Arg::string("min"),
                Arg::string("max"),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrangebyscore",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`ZRANGE` with the `BYSCORE` argument"),
            history: &[
                ("2.0.0", "Added the `WITHSCORES` modifier."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::double("min"),
                Arg::double("max"),
                Arg::pure("withscores", "WITHSCORES").since("2.0.0").optional(),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
        },
    ),
    (
        "zrangestore",
        Docs {
            args: &[
                Arg::key("dst", 0),
                Arg::key("src", 1),
                Arg::string("min"),
                Arg::string("max"),
                Arg::oneof("sortby", &[
                    Arg::pure("byscore", "BYSCORE"),
                    Arg::pure("bylex", "BYLEX"),
                ]).optional(),
                Arg::pure("rev", "REV").optional(),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrank",
        Docs {
            history: &[
                ("7.2.0", "Added the optional `WITHSCORE` argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("member"),
                Arg::pure("withscore", "WITHSCORE").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrem",
        Docs {
            history: &[
                ("2.4.0", "Accepts multiple elements."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("member").multiple(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zremrangebylex",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("min"),
                Arg::string("max"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zremrangebyrank",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::integer("start"),
                Arg::integer("stop"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zremrangebyscore",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::double("min"),
                Arg::double("max"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrevrange",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`ZRANGE` with the `REV` argument"),
            args: &[
                Arg::key("key", 0),
                Arg::integer("start"),
                Arg::integer("stop"),
                Arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrevrangebylex",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`ZRANGE` with the `REV` and `BYLEX` arguments"),
            args: &[
                Arg::key("key", 0),
                Arg::string("max"),
                Arg::string("min"),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zrevrangebyscore",
        Docs {
            doc_flags: DEPRECATED,
            deprecated_since: Some("6.2.0"),
            replaced_by: Some("`ZRANGE` with the `REV` and `BYSCORE` arguments"),
            history: &[
                ("2.1.6", "`min` and `max` can be exclusive."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::double("max"),
                Arg::double("min"),
                Arg::pure("withscores", "WITHSCORES").optional(),
                Arg::block("limit", &[
                    Arg::integer("offset"),
                    Arg::integer("count"),
                ]).token("LIMIT").optional(),
            ],
        },
    ),
    (
        "zrevrank",
        Docs {
            history: &[
                ("7.2.0", "Added the optional `WITHSCORE` argument."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::string("member"),
                Arg::pure("withscore", "WITHSCORE").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zscan",
        Docs {
            history: &[
                ("8.0.0", "Added noscores option."),
            ],
            args: &[
                Arg::key("key", 0),
                Arg::integer("cursor"),
                Arg::pattern("pattern").token("MATCH").optional(),
                Arg::integer("count").token("COUNT").optional(),
                Arg::pure("noscores", "NOSCORES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zscore",
        Docs {
            args: &[
                Arg::key("key", 0),
                Arg::string("member"),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zunion",
        Docs {
            args: &[
                Arg::integer("numkeys"),
                Arg::key("key", 0).multiple(),
                Arg::integer("weight").token("WEIGHTS").optional().multiple(),
                Arg::oneof("aggregate", &[
                    Arg::pure("sum", "SUM"),
                    Arg::pure("min", "MIN"),
                    Arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
                Arg::pure("withscores", "WITHSCORES").optional(),
            ],
            ..Docs::NONE
        },
    ),
    (
        "zunionstore",
        Docs {
            args: &[
                Arg::key("destination", 0),
                Arg::integer("numkeys"),
                Arg::key("key", 1).multiple(),
                Arg::integer("weight").token("WEIGHTS").optional().multiple(),
                Arg::oneof("aggregate", &[
                    Arg::pure("sum", "SUM"),
                    Arg::pure("min", "MIN"),
                    Arg::pure("max", "MAX"),
                ]).token("AGGREGATE").optional(),
            ],
            ..Docs::NONE
        },
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{all, lookup_fullname, Command};

    fn every_command() -> Vec<&'static Command> {
        all()
            .flat_map(|c| std::iter::once(c).chain(c.subcommands))
            .collect()
    }

    #[test]
    fn sorted_by_name_and_all_known() {
        for w in DOCS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
        for (name, _) in DOCS {
            let c = lookup_fullname(name.as_bytes()).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(c.name, *name);
            assert!(of(name).is_some());
        }
        assert!(of("nosuch").is_none());
    }

    /// Valkey's generator refuses argument trees that break these rules;
    /// the key arguments point at the command's own key specs.
    fn check_args(cmd: &Command, args: &[Arg], keys: &mut Vec<u8>) {
        for a in args {
            assert!(
                !a.name.is_empty() || a.kind == ArgType::PureToken,
                "{}",
                cmd.name
            );
            assert!(!a.name.contains('_'), "{}: {}", cmd.name, a.name);
            assert_eq!(a.name, a.name.to_ascii_lowercase(), "{}", cmd.name);
            if a.kind.is_group() {
                assert!(a.args.len() >= 2, "{}: {}", cmd.name, a.name);
                assert!(a.display.is_none(), "{}: {}", cmd.name, a.name);
            } else {
                assert!(a.args.is_empty(), "{}: {}", cmd.name, a.name);
            }
            if a.kind == ArgType::PureToken {
                assert!(a.token.is_some(), "{}: {}", cmd.name, a.name);
            }
            if let Some(t) = a.token {
                assert_eq!(t, t.to_ascii_uppercase(), "{}: {}", cmd.name, a.name);
            }
            if a.flags & MULTIPLE_TOKEN != 0 {
                assert!(a.flags & MULTIPLE != 0, "{}: {}", cmd.name, a.name);
            }
            if let Some(i) = a.key_spec {
                assert!(
                    usize::from(i) < cmd.key_specs.len(),
                    "{}: {}",
                    cmd.name,
                    a.name
                );
                keys.push(i);
            }
            check_args(cmd, a.args, keys);
        }
    }

    #[test]
    fn argument_trees_are_well_formed() {
        let mut with_args = 0;
        for c in every_command() {
            let Some(d) = of(c.name) else {
                continue;
            };
            let mut keys = Vec::new();
            check_args(c, d.args, &mut keys);
            with_args += usize::from(!d.args.is_empty());
            // Every key spec but a shard channel's or an unknown one
            // (SORT's BY/GET keys) has its key argument.
            for (i, spec) in c.key_specs.iter().enumerate() {
                let unknown = spec.begin_search == crate::commands::keyspec::BeginSearch::Unknown;
                if !unknown && spec.flags & crate::commands::keyspec::NOT_KEY == 0 {
                    assert!(keys.contains(&(i as u8)), "{}: key spec {i}", c.name);
                }
            }
            assert_eq!(
                d.deprecated_since.is_some(),
                d.doc_flags & DEPRECATED != 0,
                "{}",
                c.name
            );
            assert_eq!(
                d.deprecated_since.is_some(),
                d.replaced_by.is_some(),
                "{}",
                c.name
            );
        }
        assert!(with_args > 250, "{with_args}");
    }

    /// A command documents arguments exactly when it takes some: containers
    /// and fixed one-word commands have none. Valkey documents none for
    /// DEBUG (a system command) and QUIT (which ignores any) either.
    #[test]
    fn arguments_where_the_arity_allows_them() {
        for c in every_command() {
            let documented = of(c.name).is_some_and(|d| !d.args.is_empty());
            let words = if c.name.contains('|') { 2 } else { 1 };
            let takes_args = !(c.arity == words
                || !c.subcommands.is_empty()
                || matches!(c.name, "debug" | "quit"));
            assert_eq!(documented, takes_args, "{} (arity {})", c.name, c.arity);
        }
    }
}
