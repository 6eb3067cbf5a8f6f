//! `load_snapshot` on both backends: the concurrent, field-selective, parallel-decoding load
//! gives exactly the snapshot that building from fully decoded domain records gives, over a
//! synthetic register read in many small pages.

#![cfg(feature = "store")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use chrono::{NaiveDate, NaiveTime};
use nrmp_analysis::snapshot::ts_of_date;
use nrmp_analysis::{SnapshotBuilder, load_snapshot, load_snapshot_paged};
use nrmp_domain::incident::Incident;
use nrmp_domain::nrm::NrmReferral;
use nrmp_domain::person::Person;
use nrmp_domain::placement::Placement;
use nrmp_store::prelude::*;
use nrmp_store::test_support::{TestDb, actor, at};
use nrmp_store::{Backend, Ctx, scan_all};
use nrmp_synth::{Config, Generator};

async fn parallel_load_equals_full_decode(backend: Backend) {
    let db = TestDb::new(backend).await.unwrap();
    let until = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let g = Generator::new(Config::new(
        11,
        800,
        until.and_time(NaiveTime::MIN).and_utc(),
    ))
    .unwrap();
    let ctx = Ctx::new(actor("loader", "national:nmpu"), "test", at(0));
    let mut session = db.store.begin_import(&ctx).await.unwrap();
    session.organisations(&g.organisations()).await.unwrap();
    for chunk in g.chunks(300) {
        session.persons(&chunk.persons).await.unwrap();
        session.incidents(&chunk.incidents).await.unwrap();
        session.referrals(&chunk.referrals).await.unwrap();
        session.placements(&chunk.placements).await.unwrap();
    }
    session.commit("test population").await.unwrap();

    // The reference: every record fully decoded into its domain type, in key order.
    let store = db.store.as_ref();
    let mut b = SnapshotBuilder::new();
    scan_all::<Person>(store, 1000, |p| {
        p.iter().for_each(|x| b.person(x));
        Ok(())
    })
    .await
    .unwrap();
    scan_all::<Incident>(store, 1000, |p| {
        p.iter().for_each(|x| b.incident(x));
        Ok(())
    })
    .await
    .unwrap();
    scan_all::<NrmReferral>(store, 1000, |p| {
        p.iter().for_each(|x| b.referral(x));
        Ok(())
    })
    .await
    .unwrap();
    scan_all::<Placement>(store, 1000, |p| {
        p.iter().for_each(|x| b.placement(x));
        Ok(())
    })
    .await
    .unwrap();
    let end = ts_of_date(NaiveDate::from_ymd_opt(2025, 6, 1).unwrap());
    let want = b.finish(end);
    assert!(want.incidents.len() > 300, "a register worth testing");
    assert!(!want.placements.is_empty() && !want.referrals.is_empty());

    let got = load_snapshot_paged(store, end, 97).await.unwrap();
    assert_eq!(got, want);
    assert_eq!(load_snapshot(store, end).await.unwrap(), want);
    // An empty register loads as an empty snapshot.
    let empty = TestDb::new(backend).await.unwrap();
    let s = load_snapshot(empty.store.as_ref(), end).await.unwrap();
    assert!(s.is_empty() && s.incidents.is_empty() && s.orphans == 0);
    empty.cleanup().await;
    db.cleanup().await;
}

nrmp_store::on_both_backends!(parallel_load_equals_full_decode);
