"""Which exported names could hijack a later step: the dangerous-name guard, by family.

The rule (``RULE``, also in the README): a name is dangerous when a program that runs later reads it to decide
what code to load or run, which certificates, hosts or keys to trust, or where to fetch from or send to.
Each ``Family`` below is one kind of program that reads such names: exact names, prefixes (a tool's whole
namespace) and suffixes (a convention every tool follows, such as ``*_PROXY`` or ``*PATH``). Names are
compared ignoring case. The README table is generated from ``FAMILIES`` (``make docs``).

A few namespaces hold credentials next to settings (``NODE_AUTH_TOKEN``, ``CARGO_REGISTRY_TOKEN``,
``GH_TOKEN``): there a name matched only by the namespace prefix that ends in ``_TOKEN``, ``_PASSWORD``,
``_USERNAME``, ``_API_KEY`` or ``_SECRET`` passes, because a credential changes nothing about where it is
sent; the settings that would (``PIP_INDEX_URL``, ``GH_HOST``, ...) stay refused. The CI, loader, shell, TLS,
proxy and pager families have no such exception.
"""

from __future__ import annotations

from dataclasses import dataclass

RULE = (
    "A secret's name is refused when a program that runs later reads it to decide what code to load or run, "
    "which certificates, hosts or keys to trust, or where to fetch from or send to."
)
CREDENTIAL_SUFFIXES = ("_TOKEN", "_PASSWORD", "_USERNAME", "_API_KEY", "_SECRET")
# Inside a tool's namespace but read by applications by convention, not by the tool.
APPLICATION_NAMES = frozenset({"NODE_ENV"})


@dataclass(frozen=True, slots=True)
class Family:
    """One kind of program that reads names from the environment, and the names it reads."""

    what: str
    names: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    credentials_pass: bool = False  # see the module docstring

    def refuses(self, upper: str) -> bool:
        if upper in self.names or upper.endswith(self.suffixes):
            return True
        if not upper.startswith(self.prefixes):
            return False
        return not (self.credentials_pass and upper.endswith(CREDENTIAL_SUFFIXES))


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


FAMILIES: tuple[Family, ...] = (
    Family(
        "CI runners and this action (their own variables, tokens and file commands)",
        names=_names("CI DOCKER_AUTH_CONFIG SYSTEM_ACCESSTOKEN"),
        prefixes=("GITHUB_", "RUNNER_", "ACTIONS_", "CI_", "GITLAB_", "FF_", "KUBERNETES_", "ENKRYPTIFY_",
                  "BUILDKITE_", "CIRCLE_", "TRAVIS_", "BITBUCKET_", "DRONE_"),
    ),
    Family(
        "git and other version control (config, hooks, ssh command, askpass, exec path)",
        names=_names("SVN_SSH CVS_RSH RSYNC_RSH RSYNC_CONNECT_PROG"),
        prefixes=("GIT_",),
    ),
    Family(
        "dynamic loaders and the C library (preloading, library paths, charset modules, resolver)",
        names=_names("GLIBC_TUNABLES LOCPATH NLSPATH HOSTALIASES LOCALDOMAIN RES_OPTIONS RESOLV_HOST_CONF"),
        prefixes=("LD_", "DYLD_"),
    ),
    Family(
        "shells (startup files, prompts run as code, word splitting, where commands and temp files are)",
        names=_names("HOME SHELL CONFIG_SHELL IFS ENV PS0 PS1 PS2 PS3 PS4 PROMPT_COMMAND SHELLOPTS BASHOPTS "
                     "GLOBIGNORE ZDOTDIR INPUTRC TMPDIR USER"),
        prefixes=("BASH_", "XDG_"),
    ),
    Family(
        "search paths for programs, modules and plugins (PATH, PYTHONPATH, CLASSPATH, GOPATH, ...)",
        suffixes=("PATH",),
        names=_names("PERL5LIB PERLLIB RUBYLIB R_LIBS R_LIBS_USER ERL_LIBS TCL_LIBRARY"),
    ),
    Family(
        "interpreters and runtimes (startup code, options, module and tool locations)",
        names=_names("R_PROFILE R_PROFILE_USER R_ENVIRON R_ENVIRON_USER VIMINIT GVIMINIT EXINIT MYVIMRC VIMRUNTIME "
                     "GOFLAGS GOPROXY GONOPROXY GOPRIVATE GONOSUMDB GONOSUMCHECK GOSUMDB GOINSECURE GOTOOLCHAIN "
                     "GOENV GOROOT GOBIN GOCACHEPROG GOAUTH GOVCS GOWORK GOMODCACHE GOEXPERIMENT GODEBUG GOTMPDIR "
                     "GCCGO"),
        prefixes=("PYTHON", "PERL", "RUBY", "NODE_", "DENO_", "BUN_", "JAVA_", "JDK_", "DOTNET_", "COREHOST_",
                  "CORECLR_", "COMPLUS_", "COR_", "PHP", "LUA_", "JULIA_", "ERL_", "CGO_"),
        suffixes=("_OPTIONS", "_OPTS"),
        credentials_pass=True,
    ),
    Family(
        "compilers, linkers and build tools (which compiler runs, with which flags and extra makefiles)",
        names=_names("CC CXX CPP LD AR AS FC F77 CFLAGS CXXFLAGS CPPFLAGS LDFLAGS LDLIBS MAKEFLAGS MFLAGS "
                     "GNUMAKEFLAGS MAKEFILES RUSTFLAGS RUSTDOCFLAGS RUSTDOC"),
        prefixes=("RUSTC", "CMAKE_", "PKG_CONFIG", "CCACHE_", "MSBUILD"),
    ),
    Family(
        "package managers (registries, mirrors, indexes, config files, install scripts)",
        names=_names("APT_CONFIG WGETRC NETRC GEMRC CONDARC"),
        prefixes=("PIP_", "UV_", "POETRY_", "PIPENV_", "PDM_", "HATCH_", "CONDA_", "TWINE_", "NPM_CONFIG_",
                  "YARN_", "BUNDLE_", "COMPOSER_", "CARGO_", "RUSTUP_", "NUGET_", "MAVEN_", "GRADLE_", "HELM_",
                  "HOMEBREW_", "NIX_"),
        suffixes=("_HOME",),
        credentials_pass=True,
    ),
    Family(
        "TLS trust, key logging and crypto libraries (extra CAs, verification off, engines, agents)",
        names=_names("SSLKEYLOGFILE SSL_CERT_FILE SSL_CERT_DIR SSH_AUTH_SOCK GPG_AGENT_INFO GNUPGHOME VAULT_CACERT"),
        prefixes=("OPENSSL_",),
        suffixes=("_CA_BUNDLE", "_CA_CERTS", "_TLS_REJECT_UNAUTHORIZED", "_TLS_VERIFY", "_SKIP_VERIFY"),
    ),
    Family(
        "proxies (every request of curl, pip, npm, git, Go, Node and most SDKs would go through them)",
        names=_names("SOCKS_SERVER SOCKS5_SERVER"),
        suffixes=("_PROXY",),
    ),
    Family(
        "pagers, editors, askpass helpers and input preprocessors (programs other tools start)",
        names=_names("PAGER MANPAGER MANOPT EDITOR VISUAL BROWSER LESS LESSOPEN LESSCLOSE LESSKEY LESSKEYIN"),
        suffixes=("_PAGER", "_EDITOR", "_ASKPASS", "_COMMAND", "_BROWSER"),
    ),
    Family(
        "container, Kubernetes, cloud and CI command-line tools (endpoints, hosts, config files and dirs)",
        names=_names("DOCKER_HOST DOCKER_CONFIG DOCKER_CONTEXT BUILDKIT_HOST CONTAINER_HOST CONTAINER_SSHKEY "
                     "CONTAINERS_CONF CONTAINERS_REGISTRIES_CONF CONTAINERS_STORAGE_CONF REGISTRY_AUTH_FILE "
                     "KUBECONFIG AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI "
                     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_EC2_METADATA_SERVICE_ENDPOINT BOTO_CONFIG "
                     "AZURE_CONFIG_DIR TF_PLUGIN_CACHE_DIR TF_DATA_DIR VAULT_ADDR VAULT_AGENT_ADDR"),
        prefixes=("AWS_ENDPOINT_URL", "GH_", "GLAB_", "CLOUDSDK_", "TF_CLI_"),
        credentials_pass=True,
    ),
)  # fmt: skip


def is_dangerous(name: str) -> bool:
    """Whether exporting ``name`` could hijack a later step (see ``RULE``); case is ignored."""
    upper = name.upper()
    return upper not in APPLICATION_NAMES and any(family.refuses(upper) for family in FAMILIES)


def family_of(name: str) -> str | None:
    """What the first family that refuses ``name`` covers, for the error message."""
    upper = name.upper()
    if upper in APPLICATION_NAMES:
        return None
    return next((f.what.split(" (", 1)[0] for f in FAMILIES if f.refuses(upper)), None)
