export interface ClusterNode {
  id: number;
  port: number;
  controllerPort: number;
  pid: number;
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
}
export const DEFAULT_KAFKA_VERSION: string;
export const COMPAT_KAFKA_VERSION: string;
export function ensureJars(version?: string): string;
export function readState(name?: string): ClusterState | undefined;
export function startCluster(options?: { name?: string; nodes?: number; dataDir?: string }): Promise<ClusterState>;
export function stopCluster(options?: { name?: string }): Promise<void>;
export function stopNode(options: { name?: string; id: number; signal?: NodeJS.Signals }): Promise<void>;
export function startNode(options: { name?: string; id: number }): Promise<void>;
