export interface ClusterNode {
  id: number;
  port: number;
  controllerPort: number;
  pid: number;
  /** Present when the cluster was started with `saslSsl`. */
  saslSslPort?: number;
}
export interface ClusterState {
  name: string;
  version: string;
  clusterId: string;
  dataDir: string;
  libs: string;
  nodes: ClusterNode[];
  brokers: string;
  replication: number;
  /** host:port list of the SASL_SSL listener, when the cluster was started with `saslSsl`. */
  saslSslBrokers?: string;
  scramUsers?: ScramUser[];
}
export interface ScramUser {
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  name: string;
  password: string;
}
/** An extra SASL_SSL listener on every node, beside the PLAINTEXT one. */
export interface SaslSslListener {
  /** Server key store (certificate whose SAN names 127.0.0.1, and its key). */
  keyStore: string;
  keyStorePassword: string;
  /** PKCS12 (default), JKS or PEM. */
  keyStoreType?: string;
  /** CAs trusted for client certificates (mutual TLS). */
  trustStore?: string;
  trustStorePassword?: string;
  trustStoreType?: string;
  clientAuth?: 'none' | 'requested' | 'required';
  /** Added to the metadata log at format time. */
  scramUsers?: ScramUser[];
  plainUsers?: { name: string; password: string }[];
}
export const DEFAULT_KAFKA_VERSION: string;
export const COMPAT_KAFKA_VERSION: string;
export function ensureJars(version?: string): string;
export function readState(name?: string): ClusterState | undefined;
export function startCluster(options?: {
  name?: string;
  nodes?: number;
  dataDir?: string;
  saslSsl?: SaslSslListener;
}): Promise<ClusterState>;
export function stopCluster(options?: { name?: string }): Promise<void>;
export function stopNode(options: { name?: string; id: number; signal?: NodeJS.Signals }): Promise<void>;
export function startNode(options: { name?: string; id: number }): Promise<void>;
