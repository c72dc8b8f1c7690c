import { z } from 'zod';

/** The five impact themes of the call (DOMAIN.md); codes are stable, labels are for people. */
export const THEMES = [
  'employment',
  'environment',
  'urban_regeneration',
  'sustainable_tourism',
  'community_wellbeing',
] as const;

export type Theme = (typeof THEMES)[number];
export const ThemeSchema = z.enum(THEMES);
