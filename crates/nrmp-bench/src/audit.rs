//! `nrmp-bench audit`: the audit log's hash chain under concurrent writers. Appends events from
//! several writers at once (each append one transaction, chained to the last), then verifies
//! the whole chain, and prints both rates.

use anyhow::bail;
use clap::Args;
use nrmp_domain::audit::AuditAction;
use nrmp_domain::clock::Clock;
use nrmp_store::Ctx;

/// Arguments of `nrmp-bench audit`.
#[derive(Debug, Args)]
pub struct BenchAuditArgs {
    /// Database to append to (`sqlite://…` or `postgres://…`; use a scratch register).
    #[arg(long)]
    pub database: String,
    /// Events to append.
    #[arg(long, default_value_t = 20_000)]
    pub events: u32,
    /// Concurrent writers (each appends events/writers, one transaction each).
    #[arg(long, default_value_t = 8)]
    pub writers: u32,
}

/// Runs `nrmp-bench audit`: chained appends from concurrent writers, then a full verify.
pub async fn bench_audit(args: BenchAuditArgs, clock: &dyn Clock) -> anyhow::Result<()> {
    if args.writers == 0 || args.events < args.writers {
        bail!("--writers: must be between 1 and --events");
    }
    let store = nrmp_cli::commands::open_migrated(&args.database).await?;
    let ctx = Ctx::new(
        nrmp_domain::audit::Actor::new(
            "bench",
            nrmp_domain::organisation::OrgCode::parse("org", "national:nmpu")?,
        ),
        "audit benchmark",
        clock.now(),
    );
    let per = args.events / args.writers;
    let t = std::time::Instant::now();
    let mut tasks = Vec::new();
    for w in 0..args.writers {
        let store = store.clone();
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                // A search returning five (fake) ids, like an encounter check.
                let ids: Vec<String> = (0..5u128)
                    .map(|k| uuid_like((u128::from(w) << 64) | (u128::from(i) << 8) | k))
                    .collect();
                store
                    .record_audit(
                        &ctx,
                        AuditAction::Search,
                        "person",
                        &ids,
                        "fields=family,dob",
                    )
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let appended = u64::from(per * args.writers);
    let append_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let report = store.verify_audit_chain(&|_| {}).await?;
    let verify_s = t.elapsed().as_secs_f64();
    if let Some(b) = report.first_break {
        bail!("{b}");
    }
    println!("backend            {}", store.backend().name());
    println!(
        "appends            {appended} events from {} writers in {append_s:.2} s: {:.0} events/s",
        args.writers,
        appended as f64 / append_s
    );
    println!(
        "verify             {} events in {verify_s:.2} s: {:.0} events/s",
        report.events,
        report.events as f64 / verify_s
    );
    Ok(())
}

/// A UUID-shaped id from a number (the benchmark's fake record ids).
fn uuid_like(n: u128) -> String {
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}
