/** Remote-write self-metrics with Prometheus 2.42's names and labels (remote_name, url). */
import type { Counter, Gauge, Registry } from "../../core/metrics/registry.ts";

export interface RemoteMetrics {
  samplesTotal: Counter;
  failedSamples: Counter;
  retriedSamples: Counter;
  droppedSamples: Counter;
  bytesTotal: Counter;
  shards: Gauge;
  shardsDesired: Gauge;
  highestSent: Gauge;
  pending: Gauge;
  exemplarsTotal: Counter;
  failedExemplars: Counter;
  retriedExemplars: Counter;
  droppedExemplars: Counter;
  pendingExemplars: Gauge;
  metadataTotal: Counter;
  metadataFailed: Counter;
  metadataRetried: Counter;
  metadataBytes: Counter;
}

const Q = ["remote_name", "url"];

export function remoteMetrics(r: Registry): RemoteMetrics {
  return {
    samplesTotal: r.sharedCounter("prometheus_remote_storage_samples_total", "Total number of samples sent to remote storage.", Q),
    failedSamples: r.sharedCounter("prometheus_remote_storage_samples_failed_total", "Total number of samples which failed on send to remote storage, non-recoverable errors.", Q),
    retriedSamples: r.sharedCounter("prometheus_remote_storage_samples_retried_total", "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.", Q),
    droppedSamples: r.sharedCounter("prometheus_remote_storage_samples_dropped_total", "Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling or unintentionally because of an unknown reference ID.", Q),
    bytesTotal: r.sharedCounter("prometheus_remote_storage_bytes_total", "The total number of bytes of data (not metadata) sent by the queue after compression.", Q),
    shards: r.sharedGauge("prometheus_remote_storage_shards", "The number of shards used for parallel sending to the remote storage.", Q),
    shardsDesired: r.sharedGauge("prometheus_remote_storage_shards_desired", "The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.", Q),
    highestSent: r.sharedGauge("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.", Q),
    exemplarsTotal: r.sharedCounter("prometheus_remote_storage_exemplars_total", "Total number of exemplars sent to remote storage.", Q),
    failedExemplars: r.sharedCounter("prometheus_remote_storage_exemplars_failed_total", "Total number of exemplars which failed on send to remote storage, non-recoverable errors.", Q),
    retriedExemplars: r.sharedCounter("prometheus_remote_storage_exemplars_retried_total", "Total number of exemplars which failed on send to remote storage but were retried because the send error was recoverable.", Q),
    droppedExemplars: r.sharedCounter("prometheus_remote_storage_exemplars_dropped_total", "Total number of exemplars which were dropped after being read from the WAL before being sent via remote write, either via relabelling or unintentionally because of an unknown reference ID.", Q),
    pendingExemplars: r.sharedGauge("prometheus_remote_storage_exemplars_pending", "The number of exemplars pending in the queues shards to be sent to the remote storage.", Q),
    metadataTotal: r.sharedCounter("prometheus_remote_storage_metadata_total", "Total number of metadata entries sent to remote storage.", Q),
    metadataFailed: r.sharedCounter("prometheus_remote_storage_metadata_failed_total", "Total number of metadata entries which failed on send to remote storage, non-recoverable errors.", Q),
    metadataRetried: r.sharedCounter("prometheus_remote_storage_metadata_retried_total", "Total number of metadata entries which failed on send to remote storage but were retried because the send error was recoverable.", Q),
    metadataBytes: r.sharedCounter("prometheus_remote_storage_metadata_bytes_total", "The total number of bytes of metadata sent by the queue after compression.", Q),
    pending: r.sharedGauge("prometheus_remote_storage_samples_pending", "The number of samples pending in the queues shards to be sent to the remote storage.", Q),
  };
}
