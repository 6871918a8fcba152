//! Plumbing shared by client and server connections: the writer task (frames queued on an mpsc
//! channel, everything already queued written before each flush), write-queue sizing and
//! overflow-free deadline arithmetic for user-supplied durations.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Buffer size of a writer task.
const WRITE_BUFFER: usize = 64 * 1024;
/// Largest write queue (tokio's channel has a hard limit; no sane setting comes near this).
const MAX_QUEUE: usize = 1 << 20;
/// Stand-in for "never" when a deadline would overflow.
const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A write channel capacity for a configured queue length.
pub(crate) fn queue_capacity(configured: usize) -> usize {
    configured.clamp(1, MAX_QUEUE)
}

/// `t + d`, or a far-future instant when that does not fit (durations come from configuration).
pub(crate) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(FAR_FUTURE))
        .unwrap_or(t)
}

/// Writes frames from `rx` to `io` until every sender is gone (then shuts the write side down)
/// or a write fails.
pub(crate) async fn write_frames<W>(mut rx: mpsc::Receiver<Bytes>, io: W) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, io);
    while let Some(frame) = rx.recv().await {
        out.write_all(&frame).await?;
        while let Ok(frame) = rx.try_recv() {
            out.write_all(&frame).await?;
        }
        out.flush().await?;
    }
    out.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_settings_do_not_overflow() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > now);
        assert_eq!(
            later(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
        assert_eq!(queue_capacity(0), 1);
        assert_eq!(queue_capacity(usize::MAX), MAX_QUEUE);
        assert_eq!(queue_capacity(8), 8);
    }

    #[tokio::test]
    async fn writes_everything_in_order_then_shuts_down() {
        let (tx, rx) = mpsc::channel(4);
        let (client, mut server) = tokio::io::duplex(1024);
        let writer = tokio::spawn(write_frames(rx, client));
        for i in 0..10u8 {
            tx.send(Bytes::from(vec![i; 3])).await.unwrap();
        }
        drop(tx);
        let mut got = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut server, &mut got)
            .await
            .unwrap();
        writer.await.unwrap().unwrap();
        let expected: Vec<u8> = (0..10u8).flat_map(|i| [i; 3]).collect();
        assert_eq!(got, expected);
    }
}
