/**
 * GA4 exports English country names; CLDR's names (what Intl.DisplayNames gives) plus a few
 * aliases map them to ISO 3166-1 alpha-2 codes. Part of the GA4 BigQuery mapping (ga4-bigquery.ts).
 */

/** ISO 3166-1 alpha-2, every assigned code, plus XK (Kosovo), which GA4 and Cloudflare both use. */
const ISO_CODES =
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
  "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
  "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO " +
  "JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR " +
  "MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO " +
  "RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV " +
  "TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

/** Names GA4 has used where CLDR's English name (what Intl.DisplayNames gives) differs. */
const COUNTRY_ALIASES: Record<string, string> = {
  "Hong Kong": "HK",
  Macao: "MO",
  Macau: "MO",
  Palestine: "PS",
  Turkey: "TR",
  "Czech Republic": "CZ",
  Myanmar: "MM",
  Burma: "MM",
  "Ivory Coast": "CI",
  "Democratic Republic of the Congo": "CD",
  "Republic of the Congo": "CG",
  "Cabo Verde": "CV",
  Swaziland: "SZ",
  Macedonia: "MK",
  "East Timor": "TL",
  "Russian Federation": "RU",
  "United States of America": "US",
  Vatican: "VA",
  "The Bahamas": "BS",
  "The Gambia": "GM",
  "The Netherlands": "NL",
};

/** Case, accents, "&"/"and", "St."/"Saint" and punctuation do not matter. */
function normaliseCountry(name: string): string {
  return name
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/\bst\.?\s/g, "saint ")
    .replace(/[’'`]/g, "")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

let countries: Map<string, string> | undefined;

/** GA4 exports English country names; CLDR's names (Intl) plus a few aliases give their codes. */
export function countryCode(name: string): string | undefined {
  if (!countries) {
    countries = new Map();
    const display = new Intl.DisplayNames(["en"], { type: "region" });
    for (const code of ISO_CODES.split(" ")) {
      const english = display.of(code);
      if (english && english !== code) countries.set(normaliseCountry(english), code);
    }
    for (const [alias, code] of Object.entries(COUNTRY_ALIASES)) countries.set(normaliseCountry(alias), code);
  }
  const upper = name.toUpperCase();
  if (upper.length === 2 && ISO_CODES.split(" ").includes(upper)) return upper;
  return countries.get(normaliseCountry(name));
}
