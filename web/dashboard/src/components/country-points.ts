/**
 * An approximate centre (latitude, longitude) for each ISO 3166-1 alpha-2 country, rounded to whole
 * degrees: enough to place a bubble on a world map without shipping borders (about 2 KB against
 * 100+ KB for even a coarse world TopoJSON). Drawn together as faint dots, they also sketch the
 * continents. Positions follow the commonly used public country-centroid tables.
 */
const TABLE =
  "AD42,2 AE24,54 AF33,65 AG17,-62 AI18,-63 AL41,20 AM40,45 AO-11,18 AR-38,-63 AT47,14 AU-25,134 AW12,-70 AZ40,48 " +
  "BA44,18 BB13,-60 BD24,90 BE51,4 BF12,-2 BG43,25 BH26,51 BI-3,30 BJ9,2 BN4,115 BO-16,-64 BR-14,-51 BS25,-78 BT27,90 " +
  "BW-22,24 BY54,28 BZ17,-89 CA56,-106 CD-3,22 CF7,21 CG-1,15 CH47,8 CI8,-6 CL-35,-71 CM7,12 CN35,104 CO4,-74 CR10,-84 " +
  "CU22,-80 CV16,-24 CY35,33 CZ50,16 DE51,10 DJ12,43 DK56,10 DM15,-61 DO19,-70 DZ28,2 EC-2,-78 EE59,25 EG27,31 EH25,-13 " +
  "ER15,39 ES40,-4 ET9,40 FI62,26 FJ-18,178 FK-52,-60 FR46,2 GA-1,12 GB55,-3 GD12,-62 GE42,43 GF4,-53 GH8,-1 GL72,-42 " +
  "GM13,-15 GN10,-10 GQ2,10 GR39,22 GT16,-90 GW12,-15 GY5,-59 HK22,114 HN15,-87 HR45,16 HT19,-72 HU47,19 ID-1,114 " +
  "IE53,-8 IL31,35 IN21,78 IQ33,44 IR32,53 IS65,-19 IT42,13 JM18,-77 JO31,36 JP36,138 KE0,38 KG41,75 KH13,105 KM-12,44 " +
  "KN17,-63 KP40,127 KR36,128 KW29,48 KZ48,67 LA20,102 LB34,36 LC14,-61 LI47,10 LK8,81 LR6,-9 LS-29,28 LT55,24 LU50,6 " +
  "LV57,25 LY27,17 MA32,-6 MC44,7 MD47,29 ME43,19 MG-19,47 MK42,22 ML17,-4 MM22,96 MN47,104 MO22,114 MR21,-10 MT36,14 " +
  "MU-20,58 MV3,73 MW-13,34 MX23,-102 MY4,102 MZ-18,35 NA-23,18 NC-21,166 NE18,8 NG10,8 NI13,-85 NL52,5 NO61,9 NP28,84 " +
  "NZ-41,174 OM21,57 PA9,-80 PE-9,-75 PG-6,147 PH13,122 PK30,69 PL52,19 PR18,-66 PS32,35 PT40,-8 PY-23,-58 QA25,51 " +
  "RE-21,56 RO46,25 RS44,21 RU60,96 RW-2,30 SA24,45 SB-9,160 SC-5,55 SD16,30 SE62,15 SG1,104 SI46,15 SK49,20 SL9,-12 " +
  "SM44,12 SN14,-14 SO5,46 SR4,-56 SS7,31 SV14,-89 SY35,38 SZ-27,31 TD15,19 TG8,1 TH15,101 TJ39,71 TL-9,126 TM39,59 " +
  "TN34,9 TO-21,-175 TR39,35 TT11,-61 TW24,121 TZ-6,35 UA49,32 UG1,32 US39,-98 UY-33,-56 UZ41,64 VC13,-61 VE7,-66 " +
  "VN16,106 VU-16,167 WS-14,-172 XK43,21 YE16,48 ZA-29,25 ZM-13,28 ZW-19,30";

/** ISO code → [latitude, longitude]. */
export const COUNTRY_POINTS: ReadonlyMap<string, readonly [number, number]> = new Map(
  TABLE.split(" ").map((entry) => {
    const [lat, lon] = entry.slice(2).split(",").map(Number) as [number, number];
    return [entry.slice(0, 2), [lat, lon] as const];
  }),
);
