/**
 * The risk screen as the bot builds it, for command-line tools: the lexicons of RISK_DIR
 * (default resources/risk), screened by locale. Content problems are reported on stderr.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRiskScreen } from '../risk/loadRiskScreen.js';
import type { RiskScreen } from '../risk/riskScreen.js';

export const DEFAULT_RISK_DIR = fileURLToPath(new URL('../../resources/risk', import.meta.url));

export async function riskScreenFromDisk(dir = process.env.RISK_DIR ? path.resolve(process.env.RISK_DIR) : DEFAULT_RISK_DIR): Promise<RiskScreen> {
  return loadRiskScreen(dir, process.env.DEFAULT_LOCALE || 'en');
}
