//! The `jobscope` command.

use clap::{CommandFactory, Parser, Subcommand};
use jobscope_server::config::{LogFormat, ServeArgs};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the C library's allocator: a request allocates and frees dozens of
/// small objects on whichever worker thread runs it, which glibc's malloc serves with
/// locked arenas (23 % of the decision endpoint's CPU in the issue 6 profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// jobscope: GitLab's CI/CD job token scope (which projects' CI job tokens may reach a
/// project), served with GitLab's REST API v4, and managed from the command line on jobscope
/// or GitLab alike.
#[derive(Parser, Debug)]
#[command(
    name = "jobscope",
    version,
    after_help = jobscope_cli::AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (GitLab's /api/v4) on an embedded SQLite database by default.
    Serve(ServeArgs),
    /// Write the whole instance as one JSON document (to move it to another database).
    ///
    /// The document holds users, token digests, groups, projects, members, allowlists, jobs,
    /// the authentication log, audit events and settings, in the versioned format described
    /// in docs/operations.md.
    Export {
        /// Database URL, as for `serve`.
        #[arg(
            long = "database",
            env = "JOBSCOPE_DATABASE_URL",
            default_value = "sqlite://jobscope.sqlite3",
            hide_env_values = true
        )]
        database_url: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Load an export into an empty database (of either backend), keeping every id.
    Import {
        /// Database URL, as for `serve`; the database must hold no users yet.
        #[arg(
            long = "database",
            env = "JOBSCOPE_DATABASE_URL",
            default_value = "sqlite://jobscope.sqlite3",
            hide_env_values = true
        )]
        database_url: String,
        /// The export to load (`-` for standard input).
        file: std::path::PathBuf,
    },
    /// Create the database if needed and apply pending schema migrations, then exit.
    Migrate {
        /// Database URL, as for `serve`.
        #[arg(
            long = "database",
            env = "JOBSCOPE_DATABASE_URL",
            default_value = "sqlite://jobscope.sqlite3",
            hide_env_values = true
        )]
        database_url: String,
    },
    #[command(flatten)]
    Client(jobscope_cli::Command),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    ///
    /// For example: `jobscope completions bash > /etc/bash_completion.d/jobscope`, or
    /// `jobscope completions zsh > "${fpath[1]}/_jobscope"`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages (jobscope.1 and one per subcommand) into a directory.
    Man {
        /// The directory (created if missing), e.g. /usr/local/share/man/man1.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out_dir: std::path::PathBuf,
    },
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("JOBSCOPE_LOG")
        .unwrap_or_else(|_| EnvFilter::new(jobscope_server::DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Writes `jobscope.1` and a page for every subcommand, named like git's
/// (`jobscope-allowlist-add.1`).
fn write_man_pages(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut command = Cli::command();
    command.build();
    fn write(cmd: &clap::Command, name: &str, dir: &std::path::Path) -> anyhow::Result<usize> {
        use anyhow::Context;
        let page = cmd.clone().name(name.to_owned());
        let mut buf = Vec::new();
        clap_mangen::Man::new(page).render(&mut buf)?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, buf).with_context(|| format!("writing {}", path.display()))?;
        let mut n = 1;
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            n += write(sub, &format!("{name}-{}", sub.get_name()), dir)?;
        }
        Ok(n)
    }
    let n = write(&command, "jobscope", dir)?;
    eprintln!("wrote {n} man pages to {}", dir.display());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = match cli.command {
        Command::Client(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            let interactive = std::io::IsTerminal::is_terminal(&stderr);
            let (mut out, mut err) = (stdout.lock(), stderr.lock());
            let mut io = jobscope_cli::Io {
                out: &mut out,
                err: &mut err,
                interactive,
            };
            let code = runtime.block_on(jobscope_cli::run(
                command,
                &jobscope_cli::SystemEnv,
                &mut io,
            ));
            let _ = std::io::Write::flush(&mut out);
            std::process::exit(code as i32);
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "jobscope",
                &mut std::io::stdout(),
            );
            return Ok(());
        }
        Command::Man { out_dir } => return write_man_pages(&out_dir),
        other => other,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match command {
        Command::Serve(args) => {
            init_logging(args.log_format);
            runtime.block_on(jobscope_server::serve(args))
        }
        Command::Export {
            database_url,
            output,
        } => {
            init_logging(LogFormat::Text);
            runtime.block_on(jobscope_server::export(&database_url, output.as_deref()))
        }
        Command::Import { database_url, file } => {
            init_logging(LogFormat::Text);
            runtime.block_on(jobscope_server::import(&database_url, &file))
        }
        Command::Migrate { database_url } => {
            init_logging(LogFormat::Text);
            runtime.block_on(async {
                jobscope_server::open_store(&database_url).await?;
                println!("Database is up to date.");
                Ok(())
            })
        }
        Command::Client(_) | Command::Completions { .. } | Command::Man { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
