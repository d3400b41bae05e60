/**
 * The risk screen as the bot builds it, for command-line tools: the lexicons of RISK_DIR
 * (default resources/risk), screened by locale. Content problems are reported on stderr.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRiskData } from '../risk/loadRiskData.js';
import { createRiskClassifier } from '../risk/riskClassifier.js';
import { screenByLocale, type RiskScreen } from '../risk/riskScreen.js';

export const DEFAULT_RISK_DIR = fileURLToPath(new URL('../../resources/risk', import.meta.url));

export async function riskScreenFromDisk(dir = process.env.RISK_DIR ? path.resolve(process.env.RISK_DIR) : DEFAULT_RISK_DIR): Promise<RiskScreen> {
  const defaultLocale = process.env.DEFAULT_LOCALE || 'en';
  const data = await loadRiskData(dir, { defaultLocale });
  return screenByLocale(new Map([...data].map(([locale, d]) => [locale, createRiskClassifier(d)] as const)), defaultLocale);
}
